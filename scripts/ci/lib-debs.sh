# shellcheck shell=bash
# lib-debs.sh — fetch single .debs from a newer Debian suite (trixie, forky) through the
# machine's own apt mirror, verified, without adding that suite as an apt source. Sourced by
# install-docker.sh. CI-only plumbing.
#
# Why not an apt source: with trixie or forky in sources.list, apt would happily replace
# bookworm's libc6 and half the system with the newer suite's. What CI needs from those suites
# (the compose plugin, dockerd, containerd, the docker CLI) are Go binaries that need only
# bookworm's glibc, so taking just those .debs and unpacking them is both enough and safe.
#
# The rules, each said once, here:
#   * The mirror is the machine's own, read at run time from its apt sources (the deb822 stanza
#     whose Suites: lists exactly `bookworm`, else a one-line `deb` entry). No host name is ever
#     written into a file.
#   * Trust comes from the suite's InRelease, checked with gpgv against debian-archive-keyring
#     (bookworm's keyring already carries the trixie and forky signing keys). Then the
#     Packages.xz hash must match the signed Release, and each .deb's SHA256 must match its
#     Packages paragraph. Any mismatch stops the install. Without gpgv or the keyring there is no
#     trust anchor at all, so that is an error too, not a warning.

DEBS_KEYRING=${DEBS_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

debs_log() { printf '[debs] %s\n' "$*" >&2; }

# debian_mirror: print the mirror URI (no trailing slash) that serves the machine's bookworm.
debian_mirror() {
  local f mirror=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    mirror=$(awk 'BEGIN{RS=""; FS="\n"}
      {
        uri=""; hit=0
        for (i=1; i<=NF; i++) {
          if ($i ~ /^URIs:/)   { split($i, a, /[ \t]+/); uri=a[2] }
          if ($i ~ /^Suites:/) { n=split($i, s, /[ \t]+/); for (j=2; j<=n; j++) if (s[j]=="bookworm") hit=1 }
        }
        if (hit && uri!="") { print uri; exit }
      }' "$f")
    [ -n "$mirror" ] && break
  done
  if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk '$1=="deb" && $0 !~ /^#/ { o=2; if ($2 ~ /^\[/) { while ($o !~ /\]$/) o++; o++ } if ($(o+1)=="bookworm") { print $o; exit } }')
  fi
  if [ -z "$mirror" ]; then
    echo "could not find a bookworm mirror URI in /etc/apt/sources.list(.d)" >&2
    return 1
  fi
  printf '%s\n' "${mirror%/}"
}

# fetch_verified_debs SUITE DEST PACKAGE...: download each named binary package of SUITE
# (main, this machine's architecture) to DEST/PACKAGE.deb, verified as above. Appends one
# "PACKAGE VERSION" line per package to DEST/versions. One InRelease and one Packages index per
# call, however many packages.
fetch_verified_debs() {
  local suite=$1 dest=$2
  shift 2
  local arch mirror idx rel want got pkg fields filename sha256 version
  arch=$(dpkg --print-architecture)
  mirror=$(debian_mirror) || return 1
  command -v gpgv >/dev/null 2>&1 && [ -r "$DEBS_KEYRING" ] || {
    echo "gpgv or $DEBS_KEYRING missing: cannot verify $suite (apt-get install gpgv debian-archive-keyring)" >&2
    return 1
  }
  mkdir -p "$dest"
  idx=$(mktemp -d)

  curl -fsSL --retry 3 -o "$idx/InRelease" "$mirror/dists/$suite/InRelease" \
    || { echo "could not download $suite InRelease" >&2; rm -rf "$idx"; return 1; }
  gpgv --quiet --keyring "$DEBS_KEYRING" --output "$idx/Release" "$idx/InRelease" 2>/dev/null \
    || { echo "$suite InRelease signature check failed" >&2; rm -rf "$idx"; return 1; }

  rel="main/binary-$arch/Packages.xz"
  curl -fsSL --retry 3 -o "$idx/Packages.xz" "$mirror/dists/$suite/$rel" \
    || { echo "could not download $suite $rel" >&2; rm -rf "$idx"; return 1; }
  want=$(awk -v f="$rel" '/^SHA256:/{s=1; next} /^[^ ]/{s=0} s && $3==f {print $1; exit}' "$idx/Release")
  got=$(sha256sum "$idx/Packages.xz" | cut -d' ' -f1)
  [ -n "$want" ] && [ "$want" = "$got" ] \
    || { echo "hash mismatch for $suite $rel (want '$want', got '$got')" >&2; rm -rf "$idx"; return 1; }
  xz -dc "$idx/Packages.xz" >"$idx/Packages"

  for pkg in "$@"; do
    # The paragraph for exactly `Package: $pkg` (not `$pkg-*`).
    fields=$(awk -v p="Package: $pkg" 'BEGIN{RS=""; FS="\n"}
      $1==p {
        for (i=1; i<=NF; i++) {
          if ($i ~ /^Filename: /) fn=substr($i, 11)
          if ($i ~ /^SHA256: /)   sh=substr($i, 9)
          if ($i ~ /^Version: /)  v=substr($i, 10)
        }
        print fn, sh, v; exit
      }' "$idx/Packages")
    read -r filename sha256 version <<<"$fields"
    [ -n "${filename:-}" ] && [ -n "${sha256:-}" ] \
      || { echo "$pkg not found in $suite Packages" >&2; rm -rf "$idx"; return 1; }
    debs_log "$suite: $pkg $version"
    curl -fsSL --retry 3 -o "$dest/$pkg.deb" "$mirror/$filename" \
      || { echo "could not download $filename" >&2; rm -rf "$idx"; return 1; }
    echo "$sha256  $dest/$pkg.deb" | sha256sum -c --quiet - \
      || { echo "SHA256 mismatch for $filename" >&2; rm -rf "$idx"; return 1; }
    printf '%s %s\n' "$pkg" "$version" >>"$dest/versions"
  done
  rm -rf "$idx"
}
