# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the project's shell scripts. Source it; do not run it.

# The upstream series this project targets. Patches are written against it.
KERNEL_SERIES_MAJOR=6
KERNEL_SERIES_MINOR=12
KERNEL_SOURCE_PKG=linux-source-$KERNEL_SERIES_MAJOR.$KERNEL_SERIES_MINOR
KERNEL_TARBALL=${KERNEL_TARBALL:-/usr/src/$KERNEL_SOURCE_PKG.tar.xz}

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
KTREE=${KTREE:-$BUILD/linux}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

info() {
	printf '==> %s\n' "$*"
}

# Print the patch file names listed in kernel/series, one a line.
series_patches() {
	grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$TOP/kernel/series" || true
}

# The work tree keeps each patch's checkpatch notes (why a warning it keeps
# is right) as git notes on this ref, not in the commit message. 'make
# kernel-export' writes them below the patch's '---' line, where 'git am'
# drops them, and 'make kernel-tree' attaches them again.
NOTES_REF=refs/notes/checkpatch

# Print the notes of a patch file: the text between its '---' line and its
# diffstat (or diff), without the "Notes (checkpatch):" heading and the
# indentation git format-patch --notes gives them. Prints nothing for a
# patch without notes.
patch_notes() {
	awk '
		!below { if ($0 == "---") below = 1; next }
		/^diff / || /^ [^ ].*\| / || /^ [0-9]+ files? changed/ { exit }
		{ line[++n] = $0 }
		END {
			i = 1; while (i <= n && line[i] ~ /^[ \t]*$/) i++
			j = n; while (j >= i && line[j] ~ /^[ \t]*$/) j--
			if (i <= j && line[i] == "Notes (checkpatch):") { i++; indented = 1 }
			for (k = i; k <= j; k++) {
				l = line[k]
				if (indented) sub(/^    /, "", l)
				print l
			}
		}
	' "$1"
}

# Make a work tree keep the notes of commits that a rebase or an amend
# rewrites ('git commit --fixup' + 'git rebase -i --autosquash' keeps the
# note of the commit fixed up). The setting is in the repository, so it
# covers every worktree of it.
notes_config() {
	git -C "$1" config --replace-all notes.rewriteRef "$NOTES_REF" "^$NOTES_REF\$"
	git -C "$1" config notes.rewrite.rebase true
	git -C "$1" config notes.rewrite.amend true
}

# Attach the notes of patch file $3 to commit $2 of work tree $1, replacing
# the commit's notes; nothing when the patch has none.
attach_patch_notes() {
	local notes out

	notes=$(patch_notes "$3")
	[ -n "$notes" ] || return 0
	# -f says "Overwriting existing notes" on stderr: only show failures.
	if ! out=$(printf '%s\n' "$notes" |
		GIT_AUTHOR_NAME="kernel-tree" GIT_AUTHOR_EMAIL="kernel-tree@localhost" \
		GIT_COMMITTER_NAME="kernel-tree" GIT_COMMITTER_EMAIL="kernel-tree@localhost" \
		git -C "$1" notes --ref="$NOTES_REF" add -f -F - "$2" 2>&1); then
		printf '%s\n' "$out" >&2
		return 1
	fi
}

# Let ccache share results between clones at different paths (CI clones
# afresh): paths under the project are hashed relative to it.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$TOP}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

# Use ccache when it is there; the build never depends on it.
kernel_cc() {
	if command -v ccache >/dev/null 2>&1; then
		echo "ccache gcc"
	else
		echo "gcc"
	fi
}
