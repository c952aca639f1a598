#!/usr/bin/env bash
# Builds the .deb with `cargo deb` and checks what it holds: every path and its mode, the
# control fields, that the extracted binary runs and its manual and completions are the
# shipped ones, that systemd accepts the listener's unit, and that no maintainer script
# enables or starts it. `.ci/run` runs it after the tests; it prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "check-deb: $*" >&2
    exit 1
}

if ! cargo deb --version >/dev/null 2>&1; then
    cargo install cargo-deb --locked
fi

# The release profile's fat LTO with one codegen unit takes minutes longer on a small machine,
# and what is checked here does not depend on it. The package you ship is built with plain
# `cargo deb`, which keeps the profile; set these variables to check that one.
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-false}"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-16}"
# cargo-deb prints the package's path last on stdout.
deb=$(cargo deb --locked | tail -n 1)
[ -f "$deb" ] || fail "cargo deb printed no package: $deb"
echo "check-deb: checking $deb (lto=$CARGO_PROFILE_RELEASE_LTO)"

version=$(cargo pkgid)
version=${version##*[@#]}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- Paths: each installed file from the file it is made of, nothing missing, nothing else.
declare -A source=(
    [usr/bin/integ]=-
    [usr/share/man/man1/integ.1.gz]=man/integ.1
    [usr/share/bash-completion/completions/integ]=completions/integ.bash
    [usr/share/zsh/vendor-completions/_integ]=completions/_integ
    [usr/share/fish/vendor_completions.d/integ.fish]=completions/integ.fish
    [usr/share/doc/integ/README.md]=README.md
    [usr/share/doc/integ/copyright]=-
    [usr/share/doc/integ/changelog.Debian.gz]=-
    [usr/share/doc/integ/examples/integ-nightly-export.service]=examples/integ-nightly-export.service
    [usr/share/doc/integ/examples/integ-nightly-export.timer]=examples/integ-nightly-export.timer
    [usr/lib/systemd/system/integ-serve-hook.service]=packaging/integ-serve-hook.service
    [usr/lib/sysusers.d/integ.conf]=packaging/integ.sysusers
    [usr/lib/tmpfiles.d/integ.conf]=packaging/integ.tmpfiles
)
for example in examples/*.toml; do
    source[usr/share/doc/integ/examples/${example#examples/}]=$example
done

dpkg-deb --contents "$deb" >"$tmp/contents"
declare -A mode=()
while read -r perms owner _size _date _time path _; do
    [ "$owner" = 0/0 ] || [ "$owner" = root/root ] || fail "$path is owned by $owner, not root"
    case "$perms" in d*) continue ;; esac
    path=${path#./}
    [ -n "${source[$path]+set}" ] || fail "unexpected path in the package: /$path"
    mode[$path]=$perms
done <"$tmp/contents"
for path in "${!source[@]}"; do
    [ -n "${mode[$path]+set}" ] || fail "missing from the package: /$path"
    want=-rw-r--r--
    [ "$path" = usr/bin/integ ] && want=-rwxr-xr-x
    [ "${mode[$path]}" = "$want" ] || fail "/$path has mode ${mode[$path]}, not $want"
done

dpkg-deb -x "$deb" "$tmp/root"
root=$tmp/root
for path in "${!source[@]}"; do
    from=${source[$path]}
    [ "$from" = - ] && continue
    case "$path" in
        *.gz) gzip -dc "$root/$path" | cmp -s - "$from" ;;
        *) cmp -s "$root/$path" "$from" ;;
    esac || fail "/$path differs from $from"
done

# The changelog's newest entry is this version: a release that forgot it is caught here.
newest=$(gzip -dc "$root/usr/share/doc/integ/changelog.Debian.gz" | sed -n '1s/^integ (\([^)]*\)).*/\1/p')
[ "$newest" = "$version-1" ] || fail "packaging/changelog's newest entry is '$newest', not '$version-1'"

# --- Control fields.
field() { dpkg-deb --field "$deb" "$1"; }
expect_field() {
    [ "$(field "$1")" = "$2" ] || fail "control field $1 is '$(field "$1")', not '$2'"
}
expect_field Package integ
expect_field Version "$version-1"
expect_field Architecture "$(dpkg --print-architecture)"
expect_field Section utils
expect_field Priority optional
maintainer=$(field Maintainer)
[[ "$maintainer" == *\ \<*@*\> ]] || fail "Maintainer is not 'name <address>': $maintainer"
depends=$(field Depends)
[[ "$depends" == *libc6* ]] || fail "Depends does not name libc6, as \$auto would: $depends"
description=$(field Description)
synopsis=${description%%$'\n'*}
[ "$(printf '%s\n' "$description" | wc -l)" -ge 3 ] || fail "the Description has no extended one"
# cargo-deb wraps the Cargo.toml `description` at 79 characters: a longer one spills its end
# into the first line of the extended description (Debian asks for a synopsis under 80).
summary=$(sed -n 's/^description = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
if [ "${#summary}" -gt 79 ]; then
    echo "check-deb: warning: Cargo.toml's description has ${#summary} characters:" \
        "the synopsis is cut to '$synopsis'" >&2
fi
# Its members: the control file and the maintainer scripts cargo-deb writes for the unit; no
# conffiles (the package puts nothing in /etc).
members=$(dpkg-deb --info "$deb" \
    | sed -n 's/^ *[0-9]* bytes, *[0-9]* lines *\*\{0,1\} *\([a-z0-9]*\).*/\1/p' | sort | xargs)
[ "$members" = "control postinst postrm prerm" ] || fail "the control members are: $members"

# --- The binary and what it generates are what the package holds.
integ=$root/usr/bin/integ
said=$("$integ" --version) || fail "integ --version fails"
[ "$said" = "integ $version" ] || fail "integ --version says '$said'"
"$integ" man >"$tmp/integ.1" || fail "integ man fails"
head -n 10 "$tmp/integ.1" | grep -q '^\.TH integ 1' || fail "integ man prints no manual page"
gzip -dc "$root/usr/share/man/man1/integ.1.gz" | cmp -s - "$tmp/integ.1" \
    || fail "the packaged manual page is not what integ man prints"
for shell_file in bash:usr/share/bash-completion/completions/integ \
    zsh:usr/share/zsh/vendor-completions/_integ \
    fish:usr/share/fish/vendor_completions.d/integ.fish; do
    shell=${shell_file%%:*} file=${shell_file#*:}
    "$integ" completions "$shell" | cmp -s - "$root/$file" \
        || fail "/$file is not what integ completions $shell prints"
done
# bash-completion loads /usr/share/bash-completion/completions/NAME for the command NAME.
bash -c ". '$root/usr/share/bash-completion/completions/integ' && complete -p integ" \
    >/dev/null || fail "the bash completion does not complete integ"
if command -v man >/dev/null 2>&1; then
    found=$(MANPATH="$root/usr/share/man" man -w integ) || true
    [ "$found" = "$root/usr/share/man/man1/integ.1.gz" ] \
        || fail "man finds no integ(1) in the package: '$found'"
fi

# --- The listener's unit. verify needs the binary ExecStart= names, which is the package's
# /usr/bin/integ: check that, then verify a copy that names the extracted one, with man
# looking in the package for the Documentation= page.
unit=usr/lib/systemd/system/integ-serve-hook.service
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$root/$unit")
[ "$exec_start" = /usr/bin/integ ] || fail "$unit starts $exec_start, not /usr/bin/integ"
mkdir "$tmp/units"
copy=$tmp/units/integ-serve-hook.service
sed "s|^ExecStart=/usr/bin/integ |ExecStart=$integ |" "$root/$unit" >"$copy"
# verify exits 0 on a line systemd ignores ("Failed to parse …, ignoring"): any output fails.
said=$(MANPATH="$root/usr/share/man" systemd-analyze verify "$copy" 2>&1) && [ -z "$said" ] \
    || fail "systemd-analyze verify finds fault with /$unit: $said"
# The exposure the units `integ schedule` writes stay under too (4.0, "OK").
systemd-analyze security --offline=yes --threshold=40 "$copy" >"$tmp/security" \
    || { cat "$tmp/security" >&2; fail "/$unit is exposed above 4.0"; }
# The example for a binary installed by hand is the same unit but for the binary's path (and
# its opening comment).
diff <(sed -n '/^\[Unit\]/,$p' packaging/integ-serve-hook.service) \
    <(sed -n '/^\[Unit\]/,$p' examples/integ-serve-hook.service \
        | sed 's|^ExecStart=/usr/local/bin/integ |ExecStart=/usr/bin/integ |') \
    || fail "examples/integ-serve-hook.service and packaging/integ-serve-hook.service differ"

# --- Maintainer scripts: none names a verb that starts the unit, and the postinst enables and
# starts nothing, on a fresh install nor on an upgrade of a unit its admin left disabled. It
# runs as dpkg runs it, with the extracted package as DPKG_ROOT: Debian's own
# deb-systemd-helper would link the unit into $DPKG_ROOT/etc/systemd/system to enable it, and
# stubs for systemctl and deb-systemd-invoke log their calls instead of reaching this
# machine's systemd.
dpkg-deb -e "$deb" "$tmp/control"
for script in "$tmp"/control/{preinst,postinst,prerm,postrm}; do
    [ -f "$script" ] || continue
    if grep -En 'systemctl .*(enable|start|restart)|deb-systemd-invoke +(start|restart)|--now' \
        "$script"; then
        fail "the package's ${script##*/} would enable or start a unit"
    fi
done
command -v deb-systemd-helper >/dev/null 2>&1 \
    || fail "deb-systemd-helper (Debian's init-system-helpers) is needed to run the postinst"
mkdir "$tmp/stubs" "$tmp/run-systemd"
printf '#!/bin/sh\necho "${0##*/} $*" >>"$STUB_LOG"\n' >"$tmp/stubs/stub"
chmod +x "$tmp/stubs/stub"
ln -s stub "$tmp/stubs/systemctl"
ln -s stub "$tmp/stubs/deb-systemd-invoke"
sed "s|/run/systemd/system|$tmp/run-systemd|g" "$tmp/control/postinst" >"$tmp/postinst"
# A root has /etc, where systemd-sysusers writes the user.
mkdir -p "$root/etc"
for case in "fresh install:" "upgrade:0.0.9-1"; do
    what=${case%%:*} old=${case#*:}
    : >"$tmp/calls"
    DPKG_ROOT=$root DPKG_MAINTSCRIPT_PACKAGE=integ DPKG_MAINTSCRIPT_NAME=postinst \
        STUB_LOG=$tmp/calls PATH="$tmp/stubs:$PATH" sh "$tmp/postinst" configure ${old:+"$old"} \
        || fail "postinst fails on a $what"
    grep -q 'daemon-reload' "$tmp/calls" || fail "postinst reloads no units on a $what"
    if grep -Ev '^systemctl --system daemon-reload$|^deb-systemd-invoke try-restart ' "$tmp/calls"; then
        fail "postinst starts the unit on a $what (its calls above)"
    fi
    if [ -d "$root/etc/systemd/system" ] \
        && find "$root/etc/systemd/system" -name 'integ-serve-hook*' | grep .; then
        fail "postinst enables the unit on a $what (the links above)"
    fi
done
# The user the listener runs as, and its state directory, made in DPKG_ROOT.
grep -q '^integ:x:[0-9]*:[0-9]*:.*:/var/lib/integ:' "$root/etc/passwd" \
    || fail "postinst made no integ user: $(cat "$root/etc/passwd" 2>/dev/null)"
[ "$(stat -c %a "$root/var/lib/integ")" = 750 ] || fail "postinst made no /var/lib/integ (0750)"
[ -d "$root/var/lib/systemd/deb-systemd-helper-enabled" ] \
    || fail "deb-systemd-helper kept no state in DPKG_ROOT: did the postinst run it?"

echo "check-deb: ok, $(wc -l <"$tmp/contents") entries, in ${SECONDS}s"
