/* SPDX-License-Identifier: ISC */
/*
 * msmtp's configuration in mailsub's terms: one msmtp setting (an msmtprc
 * command or the long option of the same name) as a mailsub.conf(5) key,
 * and a whole msmtprc (defaults, accounts, "account a : b, c") as the
 * equivalent INI text, with a comment on every line that cannot be carried
 * over.  Pure: no I/O; --import-msmtprc (main.c) reads the file.
 */
#ifndef MAILSUB_MSMTPRC_H
#define MAILSUB_MSMTPRC_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct error;

/* msmtp(1) commands take one line; mailsub.conf keys are cut there too. */
#define MSMTPRC_VALUE_MAX 1024

enum msmtprc_kind {
	MSMTPRC_SET,	/* key = value (and key2 = value when key2) */
	MSMTPRC_UNSET,	/* msmtp's empty argument: key back to its default */
	MSMTPRC_TLS,	/* tls or tls_starttls: on or off in flag */
	MSMTPRC_IGNORE, /* what mailsub does anyway: why says so */
	MSMTPRC_REFUSE, /* cannot be carried over: why says what to do */
};

struct msmtprc_setting {
	enum msmtprc_kind kind;
	const char *key;  /* mailsub.conf(5) key */
	const char *key2; /* a second key with the same value, or NULL */
	char value[MSMTPRC_VALUE_MAX];
	bool flag;	 /* MSMTPRC_TLS */
	const char *why; /* MSMTPRC_IGNORE, MSMTPRC_REFUSE */
};

/*
 * One msmtp setting: command (msmtprc's spelling, "tls_starttls") and its
 * argument ("" when none; msmtp(1) reads an empty argument as "on" where
 * on is allowed).  Unknown commands are MSMTPRC_REFUSE.
 */
void msmtprc_convert(
    const char *command, const char *arg, struct msmtprc_setting *out);

/*
 * Translate a whole msmtprc (len bytes of text) into mailsub.conf(5) INI
 * text appended to out: [defaults] from msmtp's "defaults" (the last
 * ones, applied to every account as msmtp applies them to the accounts
 * that follow), one section per account with the settings it inherits
 * written out, "account default" as [defaults] account.  Every line that
 * is not carried over becomes a "; " comment saying why.  EX_DATAERR for
 * what msmtp itself would refuse (an account inheriting an unknown one,
 * a command before any account), naming the line.
 */
int msmtprc_translate(const char *text, size_t len, const char *source,
    struct buf *out, struct error *err);

#endif
