#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Checkpatch notes of the kernel patches. In build/linux they are git notes
# on refs/notes/checkpatch; in kernel/*.patch they are below the '---' line
# (see "Working on the kernel patches" in README.md).
#
#   kernel-notes.sh from-messages
#       One-shot conversion of a work tree from the time the notes were a
#       "checkpatch notes:" paragraph of the commit message: rewrites the
#       commits upstream..HEAD without those paragraphs and attaches them
#       as notes. Only the messages change (the trees, authors, committers
#       and dates stay), so builds stay incremental; running it again does
#       nothing.
#   kernel-notes.sh attach PATCH...
#       Attach the notes below the '---' line of the patch files to the
#       last commits of HEAD, the last patch to HEAD, the one before to
#       HEAD~1, and so on; for patches applied by hand with git am, which
#       drops the notes. Each commit's subject must be its patch's.
#
# Both work on $KTREE (build/linux); for another worktree of it, say
# KTREE=build/corewt.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	echo "usage:" >&2
	sed -n '/^#   kernel-notes.sh/,/^# Both/p' "$0" | sed -e 's/^# \{0,1\}//' -e '$d' >&2
	exit 2
}

tree_git() {
	git -C "$KTREE" "$@"
}

check_tree() {
	local d

	tree_git rev-parse -q --verify HEAD >/dev/null 2>&1 ||
		die "there is no work tree at $KTREE; run 'make kernel-tree' first"
	tree_git rev-parse -q --verify refs/tags/upstream >/dev/null ||
		die "$KTREE has no 'upstream' tag; it was not made by 'make kernel-tree'"
	for d in rebase-merge rebase-apply; do
		[ ! -e "$(tree_git rev-parse --path-format=absolute --git-path "$d")" ] ||
			die "a 'git am' or rebase is in progress in $KTREE; finish or abort it first"
	done
}

# Split commit message $1 into $2, the message without its "checkpatch
# notes:" paragraphs, and $3, those paragraphs without that prefix, filled
# to 68 columns (72 once format-patch indents them below '---'). A note
# that starts with a plain word starts with a capital.
split_message() {
	awk -v kept="$2" -v notes="$3" '
		function fill(text, width,    w, n, i, line, out) {
			n = split(text, w, /[ \t\n]+/)
			line = ""
			for (i = 1; i <= n; i++) {
				if (w[i] == "")
					continue
				if (line != "" && length(line) + 1 + length(w[i]) > width) {
					out = out line "\n"
					line = w[i]
				} else {
					line = line == "" ? w[i] : line " " w[i]
				}
			}
			return out line
		}
		BEGIN { RS = "" }
		tolower($0) ~ /^checkpatch notes:/ {
			t = substr($0, length("checkpatch notes:") + 1)
			sub(/^[ \t\n]+/, "", t)
			# "the ..." becomes "The ...", "show_stack() ..." stays.
			if (t ~ /^[a-z]+[ \t\n]/)
				t = toupper(substr(t, 1, 1)) substr(t, 2)
			printf "%s%s\n", nn++ ? "\n" : "", fill(t, 68) >notes
			next
		}
		{ printf "%s%s\n", nk++ ? "\n" : "", $0 >kept }
	' "$1"
	touch "$2" "$3"
}

from_messages() {
	local tmp c p newp new old_head ref out moved=0
	local -A map

	check_tree
	[ -z "$(tree_git rev-list --merges upstream..HEAD)" ] ||
		die "$KTREE has merge commits on top of upstream; this only converts a linear series"
	notes_config "$KTREE"
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand $tmp now
	trap "rm -rf '$tmp'" EXIT

	old_head=$(tree_git rev-parse HEAD)
	for c in $(tree_git rev-list --reverse upstream..HEAD); do
		p=$(tree_git rev-parse "$c^")
		newp=${map[$p]:-$p}
		tree_git cat-file commit "$c" | sed '1,/^$/d' >"$tmp/msg"
		split_message "$tmp/msg" "$tmp/kept" "$tmp/notes"
		rm -f "$tmp/note"
		tree_git notes --ref="$NOTES_REF" show "$c" >"$tmp/note" 2>/dev/null || rm -f "$tmp/note"
		if [ ! -s "$tmp/notes" ] && [ "$newp" = "$p" ]; then
			map[$c]=$c
			continue
		fi
		if [ -s "$tmp/notes" ]; then
			git stripspace <"$tmp/kept" >"$tmp/msg"
			if [ -f "$tmp/note" ]; then
				{ echo; cat "$tmp/notes"; } >>"$tmp/note"
			else
				cp "$tmp/notes" "$tmp/note"
			fi
		fi
		# The same author, committer and dates: only the message changes,
		# and the same commits convert to the same commits in every
		# worktree.
		new=$(tree_git log -1 --date=raw --format='%an%n%ae%n%ad%n%cn%n%ce%n%cd' "$c" | {
			IFS= read -r an; IFS= read -r ae; IFS= read -r ad
			IFS= read -r cn; IFS= read -r ce; IFS= read -r cd
			GIT_AUTHOR_NAME=$an GIT_AUTHOR_EMAIL=$ae GIT_AUTHOR_DATE=$ad \
			GIT_COMMITTER_NAME=$cn GIT_COMMITTER_EMAIL=$ce GIT_COMMITTER_DATE=$cd \
				git -C "$KTREE" commit-tree "$c^{tree}" -p "$newp" -F "$tmp/msg"
		})
		# -f: in another worktree of the same commits, the new commit
		# exists already, with this note. It says "Overwriting existing
		# notes" on stderr then: only show failures.
		if [ -f "$tmp/note" ] &&
		   ! out=$(tree_git notes --ref="$NOTES_REF" add -f -F "$tmp/note" "$new" 2>&1); then
			printf '%s\n' "$out" >&2
			die "could not attach a note to ${new:0:12} in $KTREE; HEAD is unchanged"
		fi
		if [ -s "$tmp/notes" ]; then
			info "${c:0:12} -> ${new:0:12} $(tree_git log -1 --format=%s "$c"): checkpatch notes moved to a note"
			moved=$((moved + 1))
		fi
		map[$c]=$new
	done

	if [ "${map[$old_head]:-$old_head}" = "$old_head" ]; then
		info "no commit of $KTREE on top of upstream has a \"checkpatch notes:\" paragraph; nothing to do"
		return 0
	fi
	# The trees are the same, so the index and any uncommitted edits stay
	# valid: only the ref moves.
	if ref=$(tree_git symbolic-ref -q HEAD); then
		tree_git update-ref -m "kernel-notes: checkpatch notes to git notes" \
			"$ref" "${map[$old_head]}" "$old_head"
	else
		tree_git update-ref --no-deref -m "kernel-notes: checkpatch notes to git notes" \
			HEAD "${map[$old_head]}" "$old_head"
	fi
	info "$KTREE: $moved commit(s) converted, ${ref:-HEAD} now ${map[$old_head]:0:12} (was ${old_head:0:12})"
}

attach() {
	local n=$# i=0 p c want have tmp

	[ "$n" -gt 0 ] || usage
	check_tree
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand $tmp now
	trap "rm -rf '$tmp'" EXIT
	for p in "$@"; do
		[ -f "$p" ] || die "$p is not a patch file"
		c=$(tree_git rev-parse -q --verify "HEAD~$((n - 1 - i))^{commit}") ||
			die "HEAD of $KTREE has fewer than $n commits"
		tree_git merge-base --is-ancestor upstream "$c^" ||
			die "HEAD~$((n - 1 - i)) of $KTREE is not on top of upstream"
		want=$(git mailinfo "$tmp/m" "$tmp/p" <"$p" | sed -n 's/^Subject: //p')
		have=$(tree_git log -1 --format=%s "$c")
		[ "$want" = "$have" ] ||
			die "HEAD~$((n - 1 - i)) of $KTREE is \"$have\", not $p (\"$want\"); list the patches in the order they were applied"
		i=$((i + 1))
	done
	i=0
	for p in "$@"; do
		c=$(tree_git rev-parse "HEAD~$((n - 1 - i))")
		if [ -n "$(patch_notes "$p")" ]; then
			attach_patch_notes "$KTREE" "$c" "$p"
			info "${c:0:12} $(tree_git log -1 --format=%s "$c"): notes of $(basename "$p") attached"
		else
			info "${c:0:12} $(tree_git log -1 --format=%s "$c"): $(basename "$p") has no notes"
		fi
		i=$((i + 1))
	done
	notes_config "$KTREE"
}

[ $# -gt 0 ] || usage
cmd=$1
shift
case "$cmd" in
from-messages) [ $# -eq 0 ] || usage; from_messages ;;
attach) attach "$@" ;;
*) usage ;;
esac
