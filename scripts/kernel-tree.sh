#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare build/linux: the upstream kernel from Debian's linux-source-6.12
# tarball, committed as the base of a git repo, with kernel/series applied
# on top as one commit per patch. The notes of a patch below its '---' line
# (why it keeps a checkpatch warning), which git am drops, are attached to
# its commit as git notes (refs/notes/checkpatch), which 'make kernel-export'
# writes back below the '---' line.
#
# The tree is only rebuilt from scratch when the tarball changed. Otherwise
# the series is re-applied on the existing base, which keeps file times (and
# so incremental kernel builds) intact. Work that is not in kernel/ yet is
# never thrown away: a dirty tree or an unexported commit stops the script.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

STAMP=$BUILD/kernel-tree.ok
VERSION_FILE=$BUILD/kernel-version

# Everything the base commit records must not depend on who runs this, so
# that the base commit id is the same on every machine for one tarball.
base_git() {
	GIT_AUTHOR_NAME="Linux upstream" GIT_AUTHOR_EMAIL="upstream@kernel.org" \
	GIT_COMMITTER_NAME="Linux upstream" GIT_COMMITTER_EMAIL="upstream@kernel.org" \
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		git -C "$1" "${@:2}"
}

# The committer of applied patches is the build, the author is the patch's.
am_git() {
	GIT_COMMITTER_NAME="kernel-tree" GIT_COMMITTER_EMAIL="kernel-tree@localhost" \
		git -C "$1" "${@:2}"
}

tarball_identity() {
	stat -c '%n %s %Y' "$KERNEL_TARBALL"
}

# "6.12.117" from a tree's top-level Makefile.
tree_version() {
	awk -F' *= *' '
		$1 == "VERSION" { v = $2 }
		$1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2 }
		END { if (v != "" && p != "") print v "." p "." s }
	' "$1/Makefile"
}

package_version() {
	dpkg-query -W -f '${Version}' "$KERNEL_SOURCE_PKG" 2>/dev/null || echo "not from dpkg"
}

# Refuse to touch a tree that holds work not captured in kernel/.
check_tree_is_safe() {
	local tree=$1 c id subject

	[ -d "$tree/.git" ] || die "$tree exists but is not a git repo made by this script; move it away and run 'make kernel-tree' again"
	if [ -d "$tree/.git/rebase-apply" ] || [ -d "$tree/.git/rebase-merge" ]; then
		die "a 'git am' or rebase is in progress in $tree; finish it (then 'make kernel-export') or abort it, then run 'make kernel-tree' again"
	fi
	if [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
		git -C "$tree" status --short --untracked-files=no | head -20 >&2
		die "$tree has uncommitted changes that 'make kernel-tree' would overwrite; commit them and run 'make kernel-export', or discard them yourself"
	fi
	git -C "$tree" rev-parse -q --verify refs/tags/upstream >/dev/null ||
		die "$tree has no 'upstream' tag; it was not made by this script; move it away and run 'make kernel-tree' again"

	local known
	known=$(for p in "$TOP"/kernel/*.patch; do
		[ -f "$p" ] && git patch-id --stable <"$p" | cut -d' ' -f1
	done)
	for c in $(git -C "$tree" rev-list upstream..HEAD); do
		id=$(git -C "$tree" show "$c" | git patch-id --stable | cut -d' ' -f1)
		if [ -n "$id" ] && ! grep -qx "$id" <<<"$known"; then
			subject=$(git -C "$tree" log -1 --format=%s "$c")
			die "$tree has commit ${c:0:12} \"$subject\" that is not in kernel/; run 'make kernel-export' first"
		fi
	done
}

# True when the tree is made from the current tarball and its first commits
# on top of upstream are exactly the patches of kernel/series, in order.
tree_has_series() {
	local tree=$1 p c i=0
	local -a commits

	[ -d "$tree/.git" ] && [ ! -d "$tree/.git/rebase-apply" ] || return 1
	[ "$(cat "$tree/.git/lkl-tarball" 2>/dev/null)" = "$(tarball_identity)" ] || return 1
	git -C "$tree" rev-parse -q --verify refs/tags/upstream >/dev/null || return 1
	mapfile -t commits < <(git -C "$tree" rev-list --reverse upstream..HEAD)
	while read -r p; do
		c=${commits[$i]:-}
		[ -n "$c" ] && [ -f "$TOP/kernel/$p" ] || return 1
		[ "$(git patch-id --stable <"$TOP/kernel/$p" | cut -d' ' -f1)" = \
		  "$(git -C "$tree" show "$c" | git patch-id --stable | cut -d' ' -f1)" ] || return 1
		i=$((i + 1))
	done < <(series_patches)
	return 0
}

extract_tarball() {
	local dest=$1 tmp=$1.new version

	rm -rf "$tmp"
	mkdir -p "$tmp"
	info "extracting $KERNEL_TARBALL"
	tar -xf "$KERNEL_TARBALL" -C "$tmp" --strip-components=1
	version=$(tree_version "$tmp")
	case "$version" in
	"$KERNEL_SERIES_MAJOR.$KERNEL_SERIES_MINOR".*) ;;
	*)
		rm -rf "$tmp"
		die "$KERNEL_TARBALL holds Linux '${version:-unknown}', but this project needs $KERNEL_SERIES_MAJOR.$KERNEL_SERIES_MINOR.y; install Debian's $KERNEL_SOURCE_PKG package"
		;;
	esac
	info "committing Linux $version as the base of $dest"
	git init -q -b work "$tmp"
	git -C "$tmp" config core.autocrlf false
	git -C "$tmp" config gc.auto 0
	# -f: Debian's .gitignore ignores every top-level entry.
	git -C "$tmp" add -A -f
	base_git "$tmp" commit -q -m "Linux $version" \
		-m "Extracted from $(basename "$KERNEL_TARBALL") of Debian package $KERNEL_SOURCE_PKG $(package_version)."
	# Debian's packaging appends rules that ignore everything at the top
	# level, which would hide new files from 'git status' in the work tree.
	if grep -q '^# Debian packaging: ignore everything' "$tmp/.gitignore"; then
		local n
		n=$(grep -n '^# Debian packaging: ignore everything' "$tmp/.gitignore" | head -1 | cut -d: -f1)
		# Drop the block and the blank and '#' lines that open it.
		head -n $((n - 3)) "$tmp/.gitignore" >"$tmp/.gitignore.new"
		mv "$tmp/.gitignore.new" "$tmp/.gitignore"
		base_git "$tmp" commit -q -a -m "gitignore: stop ignoring the top level" \
			-m "Debian's packaging ignores every top-level entry; the work tree needs to see new files."
	fi
	git -C "$tmp" tag upstream
	rm -rf "$dest"
	mv "$tmp" "$dest"
	tarball_identity >"$dest/.git/lkl-tarball"
}

apply_series() {
	local tree=$1 version=$2 p n=0

	git -C "$tree" checkout -q -B work upstream
	while read -r p; do
		[ -f "$TOP/kernel/$p" ] || die "kernel/series lists $p, but kernel/$p does not exist"
		if ! am_git "$tree" am -q --keep-non-patch "$TOP/kernel/$p" >/dev/null 2>&1; then
			am_git "$tree" am --abort >/dev/null 2>&1 || true
			cat >&2 <<-MSG
			error: patch kernel/$p does not apply on Linux $version (Debian $KERNEL_SOURCE_PKG $(package_version)).
			  $tree now holds upstream plus the $n patches before it, and is not marked as usable.
			  To port it: cd $tree && git am -3 $TOP/kernel/$p, resolve, git am --continue,
			  then apply the rest, attach the patches' checkpatch notes to the new commits
			  with $TOP/scripts/kernel-notes.sh attach <the patches you applied, in order>,
			  and run 'make kernel-export'.
			MSG
			exit 1
		fi
		attach_patch_notes "$tree" HEAD "$TOP/kernel/$p" ||
			die "could not attach the notes of kernel/$p to its commit in $tree"
		n=$((n + 1))
	done < <(series_patches)
	info "applied $n patch(es) from kernel/series"
}

[ -f "$KERNEL_TARBALL" ] ||
	die "$KERNEL_TARBALL is missing: Debian's $KERNEL_SOURCE_PKG package is not installed; run 'make deps' as root (or apt-get install $KERNEL_SOURCE_PKG)"
command -v git >/dev/null || die "git is missing; run 'make deps' as root (or apt-get install git)"

mkdir -p "$BUILD"
rm -f "$STAMP" "$VERSION_FILE"

if [ -e "$KTREE" ] && tree_has_series "$KTREE"; then
	# Nothing to do. Uncommitted edits and commits not exported yet are the
	# developer's work in progress: keep them and build them; so are its
	# notes. A tree made before notes were kept gets their setting here.
	notes_config "$KTREE"
	extra=$(($(git -C "$KTREE" rev-list --count upstream..HEAD) - $(series_patches | wc -l)))
	[ "$extra" -eq 0 ] || info "build/linux has $extra commit(s) not in kernel/ yet ('make kernel-export' saves them)"
	[ -z "$(git -C "$KTREE" status --porcelain --untracked-files=no)" ] ||
		info "build/linux has uncommitted edits; building them as they are"
	version=$(tree_version "$KTREE")
	echo "$version (Debian $KERNEL_SOURCE_PKG $(package_version))" >"$VERSION_FILE"
	info "kernel tree up to date: Linux $(cat "$VERSION_FILE") + $(series_patches | wc -l) patch(es)"
	touch "$STAMP"
	exit 0
fi

if [ -e "$KTREE" ]; then
	check_tree_is_safe "$KTREE"
	if [ "$(cat "$KTREE/.git/lkl-tarball" 2>/dev/null)" != "$(tarball_identity)" ]; then
		info "$KERNEL_TARBALL changed since $KTREE was made; extracting it again"
		extract_tarball "$KTREE"
	fi
else
	extract_tarball "$KTREE"
fi

version=$(tree_version "$KTREE")
notes_config "$KTREE"
apply_series "$KTREE" "$version"
echo "$version (Debian $KERNEL_SOURCE_PKG $(package_version))" >"$VERSION_FILE"
info "kernel tree ready: Linux $(cat "$VERSION_FILE") + $(series_patches | wc -l) patch(es) in $KTREE"
touch "$STAMP"
