#!/bin/sh
# SPDX-License-Identifier: ISC
# make install into a staging DESTDIR: the binary, its TLS and SASL modules,
# the manual pages, the systemd units (system and user service, the timer)
# naming the configured paths, and a bash completion that loads and
# completes; make install-sendmail adds the sendmail, mailq and newaliases
# links and their manual pages; make uninstall and uninstall-sendmail
# leave no file behind.  No root needed.
. "$SRCDIR/tests/lib.sh"
t_init install
need_mailsub
[ -f "$BUILDDIR/Makefile" ] || t_skip_all "no Makefile in $BUILDDIR"
need_cmd make

D=$T/dest
# -o: use the binaries, the generated files and the Makefile as they are;
# rebuilding them here would pull them from under the tests running beside
# this one.
mk()
{
	make -s -C "$BUILDDIR" -o Makefile -o mailsub -o libmailsub.a \
	    -o mailsub-tls.so -o mailsub-sasl.so \
	    -o systemd/system/mailsub-flush.service \
	    -o systemd/user/mailsub-flush.service -o completion/mailsub \
	    DESTDIR="$D" "$@" >>"$T/make.out" 2>&1
}

mk install || t_err "make install failed: $(tail -n 3 "$T/make.out")"
bin=$(find "$D" -type f -name mailsub -path '*/bin/*' | head -n 1)
[ -n "$bin" ] && [ -x "$bin" ] || t_err "no bin/mailsub installed"
bindir=${bin%/mailsub}
bindir=${bindir#"$D"}
for f in mailsub-tls.so mailsub-sasl.so mailsub.1 mailsub.conf.5; do
	[ -n "$(find "$D" -name "$f")" ] || t_err "$f not installed"
done
t_result "make install: mailsub, its modules, its manual pages"

n=$(find "$D" -name mailsub-flush.timer | wc -l)
[ "$n" = 2 ] || t_err "$n mailsub-flush.timer installed, want 2 (system, user)"
for s in $(find "$D" -name mailsub-flush.service); do
	grep -qx "ExecStart=$bindir/mailsub -q" "$s" ||
	    t_err "${s#"$D"}: $(grep ExecStart "$s"), want $bindir/mailsub -q"
	grep -q '@[a-z]*@' "$s" && t_err "${s#"$D"}: unsubstituted @...@"
	case $s in
	*/systemd/system/*)
		grep -qx "ConditionPathExists=$SYSCONFDIR/mailsub.conf" "$s" ||
		    t_err "the system service is not conditional on $SYSCONFDIR/mailsub.conf"
		;;
	*/systemd/user/*) ;;
	*) t_err "a service in ${s#"$D"}" ;;
	esac
done
[ -n "$(find "$D" -path '*/systemd/system/mailsub-flush.service')" ] ||
    t_err "no system service"
[ -n "$(find "$D" -path '*/systemd/user/mailsub-flush.service')" ] ||
    t_err "no user service"
if command -v systemd-analyze >/dev/null 2>&1; then
	for u in $(find "$D" -path '*/systemd/system/mailsub-flush.*'); do
		# The ExecStart binary is not installed on this machine (it
		# is under DESTDIR): everything else must verify.
		systemd-analyze verify --man=no "$u" 2>&1 |
		    grep -v 'Command .* is not executable' >"$T/verify.out"
		[ -s "$T/verify.out" ] &&
		    t_err "systemd-analyze verify ${u##*/}: $(head -n 2 "$T/verify.out")"
	done
fi
t_result "make install: mailsub-flush.service and .timer, system and user"

comp=$(find "$D" -path '*/bash-completion/completions/mailsub')
if [ -z "$comp" ]; then
	t_err "no bash completion installed"
elif ! command -v bash >/dev/null 2>&1; then
	t_err "bash is not installed"
else
	bash -n "$comp" 2>"$T/bash.err" || t_err "bash -n: $(head -n 2 "$T/bash.err")"
	grep -q '@[a-z]*@' "$comp" && t_err "completion: unsubstituted @...@"
fi
t_result "make install: the bash completion"

# What the completion offers, through bash-completion as a shell loads it.
BC=/usr/share/bash-completion/bash_completion
if [ -n "$comp" ] && [ -r "$BC" ] && command -v bash >/dev/null 2>&1; then
	printf '[defaults]\naccount = work\n[work]\nhost = a\n[gmail]\nhost = b\n' \
	    >"$T/c.ini"
	bash -c '
		. "$1" && . "$2" || exit 1
		compopt() { :; }	# only valid inside a real completion
		t()
		{
			COMP_WORDS=("$@")
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMP_LINE="$*"
			COMP_POINT=${#COMP_LINE}
			COMPREPLY=()
			_mailsub mailsub "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
			echo "${COMPREPLY[*]}"
		}
		t mailsub --acc
		t mailsub -C "$3" -a ""
		MAILSUB_CONFIG=$3 t mailsub --account=g
		t mailsub -N success,f
		t mailsub -B 8
		t mailsub -bp -od
		t mailsub -- -b
	' sh "$BC" "$comp" "$T/c.ini" >"$T/comp.out" 2>"$T/comp.err" ||
	    t_err "the completion did not load: $(head -n 2 "$T/comp.err")"
	printf '%s\n' "--account=" "work gmail" "gmail" "success,failure" \
	    "8BITMIME" "-odi -odq -odb" "" >"$T/comp.want"
	cmp -s "$T/comp.want" "$T/comp.out" ||
	    t_err "completions: $(tr '\n' '|' <"$T/comp.out"), want $(tr '\n' '|' <"$T/comp.want")"
	t_result "bash completion: options, accounts of the file, -N, -B, -od, nothing after --"
else
	t_skip "bash completion" "bash-completion is not installed"
fi

mk install-sendmail || t_err "make install-sendmail failed"
for m in man8/sendmail.8 man1/mailq.1 man8/newaliases.8; do
	l=$(find "$D" -path "*/man/$m")
	[ -n "$l" ] && [ "$(readlink "$l")" = ../man1/mailsub.1 ] ||
	    t_err "$m is not a link to ../man1/mailsub.1"
	[ -f "$l" ] || t_err "$m does not resolve"
done
t_result "make install-sendmail: sendmail(8), mailq(1), newaliases(8) are mailsub(1)"

mk uninstall-sendmail || t_err "make uninstall-sendmail failed"
mk uninstall || t_err "make uninstall failed"
left=$(find "$D" ! -type d | sed "s|^$D||")
[ -z "$left" ] || t_err "left behind: $(printf '%s\n' "$left" | head -n 5 | tr '\n' ' ')"
t_result "make uninstall, uninstall-sendmail: nothing left"

t_summary
