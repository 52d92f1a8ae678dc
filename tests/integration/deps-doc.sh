#!/bin/sh
# SPDX-License-Identifier: ISC
# README names the packages each of its two commands installs: they are
# exactly tests/install-deps.sh's lists (BUILD_PACKAGES for the first
# command, TEST_PACKAGES for --tests), so a new dependency cannot be left
# out of what README promises a fresh Debian 12 machine.
. "$SRCDIR/tests/lib.sh"
t_init deps-doc
README=$SRCDIR/README
DEPS=$SRCDIR/tests/install-deps.sh
[ -f "$README" ] || t_fatal "no README in $SRCDIR"
[ -f "$DEPS" ] || t_fatal "no tests/install-deps.sh in $SRCDIR"

# script_list VAR: the words of VAR="..." in install-deps.sh, one a line.
script_list()
{
	sed -n "/^$1=\"/,/\"\$/p" "$DEPS" | sed "s/^$1=//; s/\"//g" |
	    tr -s '[:blank:]' '\n' | sed '/^$/d' | sort -u
}

# readme_list SED-PREFIX: the comma-separated list that follows SED-PREFIX
# (which ends with its opening parenthesis) in README, its lines joined, up
# to the closing parenthesis; one a line.
readme_list()
{
	tr '\n' ' ' <"$README" | sed -n "s/.*$1 *\([^)]*\)).*/\1/p" |
	    tr ',' '\n' | sed 's/^ *//; s/ *$//; /^$/d' | sort -u
}

# compare WHAT SCRIPT-LIST README-LIST
compare()
{
	[ -n "$2" ] || t_err "$1: no package list in tests/install-deps.sh"
	[ -n "$3" ] || t_err "$1: no package list found in README"
	[ -n "$2" ] && [ -n "$3" ] || return
	printf '%s\n' "$2" >"$T/script"
	printf '%s\n' "$3" >"$T/readme"
	only=$(comm -23 "$T/script" "$T/readme" | tr '\n' ' ')
	[ -z "$only" ] ||
	    t_err "$1: README does not name what install-deps.sh installs: $only"
	only=$(comm -13 "$T/script" "$T/readme" | tr '\n' ' ')
	[ -z "$only" ] ||
	    t_err "$1: README names what install-deps.sh does not install: $only"
}

compare "the first command" "$(script_list BUILD_PACKAGES)" \
    "$(readme_list 'The first command installs what building mailsub and the demo need (')"
t_result "README names the packages of the first command (BUILD_PACKAGES)"
# shellcheck disable=SC2016 # the backquotes are README's, not a command
compare "--tests" "$(script_list TEST_PACKAGES)" \
    "$(readme_list '(`tests\/install-deps.sh --tests`:')"
t_result "README names the packages of --tests (TEST_PACKAGES)"
t_summary
