#!/bin/sh
# SPDX-License-Identifier: ISC
# The real callers of /usr/sbin/sendmail (mailsub(1), CALLERS
# item 4), each delivering through mailsub into the private Postfix of
# tests/postfix-rig.sh (plain port, tls = off), and what arrived in the
# maildirs checked: recipients, headers (no Bcc), and the body byte for byte
# (Postfix stores LF line ends; tests/maildircheck.py compares modulo CRLF).
#
#   git send-email   three-patch series, --cc, --bcc, --envelope-sender;
#                    git am of the delivered copies gives the same tree; a
#                    refused recipient stops the series with a non-zero status
#   PHP mail()       sendmail_path = "mailsub -C cfg -t -i", CRLF headers, LF
#                    body, Cc and Bcc; true, and false when refused
#   bsd-mailx        -s -c -b
#   s-nail           -s -c -b -a (the attachment decodes byte-identical)
#   mutt             batch mode, set sendmail="mailsub -C cfg -oem -oi", -a
#   replays          Debian cron, cronie, fail2ban, logwatch and mdadm (-t
#                    without -i, a lone "." in the body), sudo (-t, HOME=/,
#                    stderr closed, /etc/mailsub.conf in a private mount
#                    namespace)
# Needs root (Postfix).  A caller that is not installed is a skip (a
# failure under MAILSUB_NO_SKIP=1, as in CI): tests/install-deps.sh
# installs them all.
if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$SRCDIR/tests/lib.sh"

t_init callers
need_mailsub
[ "$(id -u)" = 0 ] || t_skip_all "needs root to run a private Postfix"
need_cmd postfix dovecot certtool

RIG=$(mktemp -d /tmp/mailsub-rig.XXXXXX) || t_fatal "mktemp failed"
T_ATEXIT='sh "$SRCDIR/tests/postfix-rig.sh" stop "$RIG" >/dev/null 2>&1; rm -rf "$RIG"'
if ! sh "$SRCDIR/tests/postfix-rig.sh" start "$RIG" >"$T/rig.log" 2>&1; then
	cat "$T/rig.log"
	echo "FAIL the Postfix rig did not start"
	exit 1
fi
. "$RIG/ports"
sed 's/^/# /' "$T/rig.log"

D=example.test
Q=$T/queue
CFG=$T/cfg.ini
MC=$SRCDIR/tests/maildircheck.py
# The message directory must be readable by whoever runs the callers
# (all root here), the config by the user only.
cat >"$CFG" <<EOF
[rig]
host = 127.0.0.1
port = $PLAIN_PORT
tls = off
default_domain = $D
aliases = $T/aliases
queue_dir = $Q
logfile = $T/mailsub.log
timeout = 20
EOF
chmod 600 "$CFG"
printf 'root: alice\npostmaster: root\n' >"$T/aliases"
MAILSUB_CONFIG=$CFG
export MAILSUB_CONFIG

# box USER ARGS...: maildircheck.py on USER's maildir.
box()
{
	u=$1
	shift
	if ! out=$("$PYTHON3" "$MC" "$RIG_MAIL/$u" "$@" 2>&1); then
		t_err "$u: $out"
		return 1
	fi
	return 0
}

# caller NAME COMMAND: skip the case when the command is missing.
have()
{
	if command -v "$1" >/dev/null 2>&1; then
		return 0
	fi
	t_skip "$2" "$1 is not installed (tests/install-deps.sh)"
	return 1
}

head -c 5000 /dev/urandom >"$T/attach.bin"
printf 'a text file\nwith two lines\n' >"$T/notes.txt"

# ---- git send-email -----------------------------------------------------------

# `git send-email -h` prints its usage (exit 129) when it and its Perl
# modules (libmailtools-perl) are all there.
if have git "git send-email" &&
    git send-email -h 2>&1 | grep -q -- '--smtp-server'; then
	R=$T/repo
	git init -q "$R"
	(
		cd "$R" || exit 1
		git config user.name "Dev Eloper"
		git config user.email dev@$D
		printf 'base\n' >file.txt
		git add file.txt
		git commit -q -m base
		git tag base
		i=1
		while [ $i -le 3 ]; do
			printf 'change %d\n' $i >>file.txt
			# Lines a naive sendmail would cut or mangle.
			printf 'patch %d\n.\n..\n.leading dot\nFrom the start\nGr\303\274\303\237e\n' \
			    $i >"f$i.txt"
			git add .
			git commit -q -m "change $i" -m "Why change $i is needed."
			i=$((i + 1))
		done
		git format-patch -q -o "$T/patches" base &&
		    git format-patch -q -o "$T/patches-refused" \
			--subject-prefix="PATCH refused" base
	) || t_err "could not make the patch series"
	[ "$(ls "$T/patches" 2>/dev/null | wc -l)" = 3 ] ||
	    t_err "want 3 patches, have $(ls "$T/patches" 2>/dev/null | wc -l)"
	git -C "$R" send-email --smtp-server="$MAILSUB" \
	    --smtp-server-option=-C --smtp-server-option="$CFG" \
	    --to=alice@$D --cc=bob@$D --bcc=carol@$D \
	    --from="Dev Eloper <dev@$D>" --envelope-sender=dev@$D \
	    --confirm=never --suppress-cc=all --no-chain-reply-to --quiet \
	    "$T/patches"/*.patch >"$T/stdout" 2>"$T/stderr"
	RC=$?
	expect_exit 0
	for u in alice bob carol; do
		box $u --subject "[PATCH " --subject-prefix --count 3 \
		    --no-header Bcc --header "Return-Path: <dev@$D>" \
		    --header "From: Dev Eloper <dev@$D>"
	done
	# Every delivered body is the patch's body, byte for byte.
	n=1
	for p in "$T/patches"/*.patch; do
		subj=$(sed -n 's/^Subject: //p' "$p" | head -n 1)
		box carol --subject "$subj" --body-equals "$p"
		n=$((n + 1))
	done
	# git am of alice's copies gives the original tree.
	box alice --subject "[PATCH " --subject-prefix --count 3 \
	    --save "$T/delivered"
	git clone -q "$R" "$T/am"
	(
		cd "$T/am" &&
		    git config user.name "Dev Eloper" &&
		    git config user.email dev@$D &&
		    git checkout -q base &&
		    git am -q "$T/delivered"/*.eml
	) >"$T/am.log" 2>&1 || t_err "git am failed: $(head -c 300 "$T/am.log")"
	want=$(git -C "$R" rev-parse 'HEAD^{tree}')
	got=$(git -C "$T/am" rev-parse 'HEAD^{tree}' 2>/dev/null)
	[ "$want" = "$got" ] || t_err "git am gave tree $got, want $want"
	t_result "git send-email: 3 patches to --to, --cc, --bcc; git am gives the same tree"

	git -C "$R" send-email --smtp-server="$MAILSUB" \
	    --smtp-server-option=-C --smtp-server-option="$CFG" \
	    --to=alice@$D --to=refuse@$D --from="Dev Eloper <dev@$D>" \
	    --confirm=never --suppress-cc=all --quiet \
	    "$T/patches-refused"/*.patch >"$T/stdout" 2>"$T/stderr"
	RC=$?
	[ "$RC" != 0 ] || t_err "git send-email exited 0 with a refused recipient"
	expect_stderr 'refuse@example\.test'
	box alice --subject "[PATCH refused" --subject-prefix --count 0 --wait 2
	[ "$(ls "$Q/failed" | wc -l)" = 1 ] ||
	    t_err "want one message in failed/, have $(ls "$Q/failed" | wc -l)"
	t_result "git send-email: a refused recipient stops the series, non-zero"
else
	t_skip "git send-email" "git send-email is not installed (git-email)"
fi

# ---- PHP mail() ---------------------------------------------------------------

if have php "PHP mail()"; then
	printf 'Hello from PHP.\n.\n..\nLast line, no CR: LF only.\n' \
	    >"$T/php-body.txt"
	cat >"$T/mail.php" <<'EOF'
<?php
$body = file_get_contents($argv[1]);
$headers = "From: PHP App <app@example.test>\r\n" .
    "Cc: bob@example.test\r\n" .
    "Bcc: carol@example.test\r\n" .
    "X-Mailer: PHP/" . phpversion();
$ok = mail($argv[2], $argv[3], $body, $headers, $argv[4] ?? "");
echo $ok ? "true\n" : "false\n";
EOF
	php -d sendmail_path="$MAILSUB -C $CFG -t -i" "$T/mail.php" \
	    "$T/php-body.txt" alice@$D "php mail test" >"$T/stdout" 2>"$T/stderr"
	RC=$?
	[ "$(cat "$T/stdout")" = true ] ||
	    t_err "mail() returned $(cat "$T/stdout") (exit $RC)"
	# What PHP hands to sendmail, captured the same way: CRLF after its
	# headers, the body as given, and a CRLF of its own at the end.
	php -d sendmail_path="cat >$T/php.raw" "$T/mail.php" \
	    "$T/php-body.txt" alice@$D "php mail test" >/dev/null 2>&1
	grep -q "$(printf '\r')" "$T/php.raw" ||
	    t_err "PHP wrote no CRLF headers (the case is meant to have them)"
	for u in alice bob carol; do
		box $u --subject "php mail test" --no-header Bcc \
		    --header "From: PHP App <app@$D>" --header "To: alice@$D" \
		    --header "Cc: bob@$D" --body-equals "$T/php.raw"
	done
	t_result "PHP mail(): -t -i, CRLF headers, LF body, Cc, Bcc -> true"

	php -d sendmail_path="$MAILSUB -C $CFG -t -i" "$T/mail.php" \
	    "$T/php-body.txt" alice@$D "php with -f" "-fbounce@$D" \
	    >"$T/stdout" 2>"$T/stderr"
	[ "$(cat "$T/stdout")" = true ] || t_err "mail() with -f returned false"
	box alice --subject "php with -f" --header "Return-Path: <bounce@$D>"
	t_result "PHP mail() with additional_params -f"

	php -d sendmail_path="$MAILSUB -C $CFG -t -i" "$T/mail.php" \
	    "$T/php-body.txt" refuse@$D "php refused" >"$T/stdout" \
	    2>"$T/stderr"
	[ "$(cat "$T/stdout")" = false ] ||
	    t_err "mail() returned $(cat "$T/stdout") for a refused recipient"
	box bob --subject "php refused" --count 0 --wait 2
	t_result "PHP mail(): a refused recipient -> false, nothing delivered"
fi

# ---- bsd-mailx ---------------------------------------------------------------

if have bsd-mailx "bsd-mailx"; then
	printf 'set sendmail=%s\n' "$MAILSUB" >"$T/mailrc"
	printf 'mailx body\n.\nafter the dot\n' >"$T/mailx-body.txt"
	MAILRC=$T/mailrc bsd-mailx -s "bsd-mailx test" -c bob@$D -b carol@$D \
	    alice@$D <"$T/mailx-body.txt" >"$T/stdout" 2>"$T/stderr"
	RC=$?
	expect_exit 0
	for u in alice bob carol; do
		box $u --subject "bsd-mailx test" --no-header Bcc \
		    --header "To: alice@$D" --header "Cc: bob@$D" \
		    --body-is "$T/mailx-body.txt"
	done
	t_result "bsd-mailx -s -c -b (sendmail -i -t)"
fi

# ---- s-nail ---------------------------------------------------------------------

if have s-nail "s-nail"; then
	printf 's-nail body\n' >"$T/snail-body.txt"
	s-nail -:/ -S mta="$MAILSUB" -S sendwait -S from="Snail <snail@$D>" \
	    -s "s-nail test" -c bob@$D -b carol@$D -a "$T/attach.bin" \
	    -a "$T/notes.txt" alice@$D <"$T/snail-body.txt" >"$T/stdout" \
	    2>"$T/stderr"
	RC=$?
	expect_exit 0
	for u in alice bob carol; do
		box $u --subject "s-nail test" --no-header Bcc \
		    --header "Cc: bob@$D" --attachment "attach.bin=$T/attach.bin" \
		    --attachment "notes.txt=$T/notes.txt" --contains 's-nail body'
	done
	t_result "s-nail -s -c -b -a: attachments decode byte-identical"
fi

# ---- mutt -----------------------------------------------------------------------

if have mutt "mutt"; then
	mkdir -p "$T/mutthome"
	cat >"$T/muttrc" <<EOF
set sendmail="$MAILSUB -C $CFG -oem -oi"
set from="Mutt User <mutt@$D>"
set use_from=yes
set envelope_from=yes
set record=""
set copy=no
set charset="utf-8"
set send_charset="us-ascii:utf-8"
EOF
	printf 'mutt body\n.\nGr\303\274\303\237e\n' >"$T/mutt-body.txt"
	HOME=$T/mutthome mutt -n -F "$T/muttrc" -s "mutt test" -c bob@$D \
	    -b carol@$D -a "$T/attach.bin" -- alice@$D <"$T/mutt-body.txt" \
	    >"$T/stdout" 2>"$T/stderr"
	RC=$?
	expect_exit 0
	for u in alice bob carol; do
		box $u --subject "mutt test" --no-header Bcc \
		    --header "Return-Path: <mutt@$D>" \
		    --attachment "attach.bin=$T/attach.bin" \
		    --contains 'mutt body\n.\n'
	done
	t_result "mutt batch mode: sendmail=\"mailsub -oem -oi\", -c -b -a"
fi

# ---- replays of the exact argv of cron and friends ----------------------------

# Debian cron: -FCronDaemon -i -B8BITMIME -oem "a@x,b@y"; no Date or
# Message-ID in the input; From is a bare "root (Cron Daemon)".
printf '%s\n' "From: root (Cron Daemon)" "To: alice@$D,bob@$D" \
    "Subject: Cron <root@host> /usr/local/bin/backup" "MIME-Version: 1.0" \
    "Content-Type: text/plain; charset=UTF-8" \
    "Content-Transfer-Encoding: 8bit" "X-Cron-Env: <SHELL=/bin/sh>" \
    "X-Cron-Env: <HOME=/root>" "X-Cron-Env: <LOGNAME=root>" "" \
    "backup: 3 files, Gr$(printf '\303\274\303\237')e" "." "done" >"$T/cron.in"
run_mailsub "$T/cron.in" -FCronDaemon -i -B8BITMIME -oem "alice@$D,bob@$D"
expect_exit 0
for u in alice bob; do
	box $u --subject "Cron <root@host> /usr/local/bin/backup" \
	    --header-count Date=1 --header-count Message-ID=1 \
	    --header-re "From: ^(Cron Daemon|\"?root\"?) ?<root@example\.test>|root@example\.test \(Cron Daemon\)" \
	    --body-equals "$T/cron.in"
done
t_result "Debian cron: -FCronDaemon -i -B8BITMIME -oem \"a,b\"; Date and Message-ID added"

sed 's/^To: .*/To: root/; s/^Subject: .*/Subject: Cron MAILTO=root/' \
    "$T/cron.in" >"$T/cron-root.in"
run_mailsub "$T/cron-root.in" -FCronDaemon -i -B8BITMIME -oem root
expect_exit 0 && box alice --subject "Cron MAILTO=root" \
    --body-equals "$T/cron-root.in" --header "Return-Path: <root@$D>"
t_result "Debian cron, MAILTO=root: the alias reaches alice"

# cronie: -FCronDaemon -i -odi -oem -oi -t -f user
printf '%s\n' "From: \"(Cron Daemon)\" <root>" "To: alice@$D" \
    "Subject: Cron <root@host> run-parts /etc/cron.hourly" \
    "Content-Type: text/plain; charset=UTF-8" "Auto-Submitted: auto-generated" \
    "Precedence: bulk" "X-Cron-Env: <XDG_SESSION_ID=1>" "" \
    "hourly output" >"$T/cronie.in"
run_mailsub "$T/cronie.in" -FCronDaemon -i -odi -oem -oi -t -f root
expect_exit 0 && box alice --subject "Cron <root@host> run-parts /etc/cron.hourly" \
    --header "Return-Path: <root@$D>" --header-count Date=1 \
    --body-equals "$T/cronie.in"
t_result "cronie: -FCronDaemon -i -odi -oem -oi -t -f root"

# fail2ban: sendmail -f fail2ban root (sendmail-common.conf's mail).
printf '%s\n' "Subject: [Fail2Ban] sshd: banned 192.0.2.7 from host" \
    "Date: Mon, 01 Jan 2024 00:00:00 +0000" "From: Fail2Ban <fail2ban>" \
    "To: root" "" "Hi," "" "The IP 192.0.2.7 has just been banned by Fail2Ban after" \
    "5 attempts against sshd." "" "Regards," "" "Fail2Ban" >"$T/f2b.in"
run_mailsub "$T/f2b.in" -f fail2ban root
expect_exit 0 && box alice --subject "[Fail2Ban] sshd: banned 192.0.2.7 from host" \
    --header "Return-Path: <fail2ban@$D>" \
    --header "From: Fail2Ban <fail2ban@$D>" --header "To: root@$D" \
    --header "Date: Mon, 01 Jan 2024 00:00:00 +0000" \
    --body-equals "$T/f2b.in"
t_result "fail2ban: -f fail2ban root (bare names on both sides)"

# logwatch: sendmail -t, no -i; the report has lone "." lines.
printf '%s\n' "To: root" "From: logwatch@host" "Subject: Logwatch for host (Linux)" \
    "Auto-Submitted: auto-generated" "MIME-Version: 1.0" \
    "Content-Transfer-Encoding: 7bit" "Content-Type: text/plain; charset=\"iso-8859-1\"" \
    "" " ################### Logwatch 7.8 #####################" "." \
    " --------------------- Disk Space Begin ------------------------" "." \
    ".." "/dev/sda1        20G  5.1G   14G  28% /" "" \
    " ###################### Logwatch End #########################" \
    >"$T/logwatch.in"
run_mailsub "$T/logwatch.in" -t
expect_exit 0 && box alice --subject "Logwatch for host (Linux)" \
    --body-equals "$T/logwatch.in"
t_result "logwatch: -t without -i, lone dots in the body: all of it arrives"

# mdadm --monitor: sendmail -t.
printf '%s\n' "From: mdadm monitoring <root>" "To: root" \
    "Subject: Fail event on /dev/md0:host" "" \
    "This is an automatically generated mail message from mdadm" \
    "running on host" "." "A Fail event had been detected on md device /dev/md0." \
    "" "Faithfully yours, etc." "." >"$T/mdadm.in"
run_mailsub "$T/mdadm.in" -t
expect_exit 0 && box alice --subject "Fail event on /dev/md0:host" \
    --header "From: mdadm monitoring <root@$D>" --body-equals "$T/mdadm.in"
t_result "mdadm: -t, a lone dot line and a final dot line arrive"

# sudo: sendmail -t with HOME=/, stderr closed, the system configuration:
# $SYSCONFDIR/mailsub.conf in a private mount namespace (an overlay).
if [ ! -d "$SYSCONFDIR" ]; then
	t_skip "sudo replay" "no $SYSCONFDIR (configure --sysconfdir) on this machine"
elif command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
	mkdir -p "$T/etc.up" "$T/etc.work"
	cp "$CFG" "$T/etc.up/mailsub.conf"
	chmod 600 "$T/etc.up/mailsub.conf"
	printf '%s\n' "To: root" "From: root" "Auto-Submitted: auto-generated" \
	    "Subject: *** SECURITY information for host ***" "" \
	    "host : Jan  1 00:00:00 : mallory : user NOT in sudoers ; TTY=pts/0 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/sh" \
	    >"$T/sudo.in"
	unshare -m sh -c '
		mount -t overlay overlay -o "lowerdir=$SYSCONFDIR,upperdir=$1/etc.up,workdir=$1/etc.work" "$SYSCONFDIR" || exit 99
		shift
		exec "$@"' sh "$T" env -i PATH=/usr/bin:/bin HOME=/ \
	    "$MAILSUB" -t <"$T/sudo.in" >"$T/stdout" 2>&-
	RC=$?
	if [ "$RC" = 99 ]; then
		t_skip "sudo replay" "no overlay mount here"
	else
		expect_exit 0 && box alice \
		    --subject "*** SECURITY information for host ***" \
		    --header "From: root@$D" --body-equals "$T/sudo.in"
		t_result "sudo: -t, HOME=/, stderr closed, $SYSCONFDIR/mailsub.conf"
	fi
else
	t_skip "sudo replay" "unshare -m is not permitted here"
fi

# Nothing was left behind for the successful callers.
[ "$(count_files "$Q/new")" = 0 ] || t_err "messages left in new/"
t_result "no message queued by any caller"

t_summary
