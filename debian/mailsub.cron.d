# SPDX-License-Identifier: ISC
# /etc/cron.d/mailsub: root's mailsub -q sends the system queue
# (/var/spool/mailsub) every 15 minutes where systemd's mailsub-flush.timer
# does not (mailsub(1), SECURITY).  Failures are in the log records; mailing
# them would queue one more message each time.
*/15 * * * * root [ -d /run/systemd/system ] || [ ! -x /usr/bin/mailsub ] || /usr/bin/mailsub -q >/dev/null 2>&1
