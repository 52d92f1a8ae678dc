/* SPDX-License-Identifier: ISC */
/*
 * Compose mode (mailsub(1), OPTIONS): a MIME message built from the command
 * line -- subject, body text, an HTML alternative, attachments, extra header
 * fields -- and streamed into the same spool as a message read from
 * stdin, with memory that does not depend on the attachments' size.
 *
 * compose_open() does everything that can fail on the user's input before
 * a byte is written: it opens every file (EX_NOINPUT naming it), checks
 * the addresses and header text (EX_USAGE), reads the body's first block
 * to choose its transfer encoding, and builds the header block.
 * compose_write() then streams the message: 7bit or quoted-printable text,
 * base64 attachments in 76-column lines, through fixed buffers.
 *
 * The rules, in mailsub(1) COMPOSE:
 * - Body: --body, else --body-file, else stdin when it is not a terminal,
 *   taken literally as text (a message on stdin with headers of its own
 *   becomes body text; with --body or --body-file stdin is not read).  An
 *   empty stdin gives no text part when there is an HTML part or an
 *   attachment.
 * - Text goes as 7bit when it is ASCII with lines of at most 998
 *   characters and ends with a line break, else quoted-printable: the
 *   server's 8BITMIME is only known after the message is spooled, and
 *   quoted-printable is correct on every server.  A body read ahead
 *   incompletely (stdin over 256 KiB) is quoted-printable.
 * - Bcc recipients are only in the envelope, never in the message.
 */
#ifndef MAILSUB_COMPOSE_H
#define MAILSUB_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>

struct error;
struct message;
struct message_options;

/* One --attach FILE[;type=TYPE/SUBTYPE][;name=NAME], cut apart. */
struct compose_attachment {
	char *path; /* malloc'd, like type and name */
	char *type; /* NULL: libmagic, then the extension table */
	char *name; /* NULL: the file's base name */
};

/*
 * Compose mode: -s, --subject, --body, --body-file, --html or --attach
 * selects it (cli.h parses them), and mailsub builds the MIME message
 * itself; the other fields only refine it.  Strings point into argv.
 */
struct compose_options {
	bool active;	       /* an option that starts compose was given */
	bool print;	       /* --print: write the message to stdout */
	const char *subject;   /* -s, --subject */
	const char *body;      /* --body TEXT (may hold newlines) */
	const char *body_file; /* --body-file FILE */
	const char *html_file; /* --html FILE */
	const char *from;      /* --from in compose mode: the From header
				  only (outside it, it is envelope_from) */
	const char *reply_to;  /* --reply-to */
	const char **to;       /* --to and the plain recipient arguments */
	size_t n_to;
	const char **cc; /* --cc */
	size_t n_cc;
	size_t n_bcc;	      /* --bcc: envelope only, never a header */
	const char **headers; /* --header "Name: value", checked */
	size_t n_headers;
	struct compose_attachment *attach;
	size_t n_attach;
};

struct compose;

/*
 * Check and open everything co names; in_fd is the stdin to take the body
 * from (not read when --body or --body-file is given, or when it is a
 * terminal).  From comes from --from, else mo->header (header.h):
 * full_name and envelope_from; its hostname goes into the Message-ID.
 */
int compose_open(const struct compose_options *co, int in_fd,
    const struct message_options *mo, struct compose **out, struct error *err);

/* Write the whole message to out_fd with LF line endings (message_read()
 * makes the wire form).  A read error on a file is EX_IOERR naming it; a
 * write error names out_label. */
int compose_write(
    struct compose *c, int out_fd, const char *out_label, struct error *err);

void compose_free(struct compose *c);

/*
 * The composed message into the spool, through message_read() from a
 * pipe fed by a writer thread (one spool write, no temporary copy; the
 * reader closing its end stops the writer, so neither can wait for the
 * other forever).  Errors and the spool as message_read(); a file that
 * fails while being streamed discards the spool (m->fd -1) and returns
 * its error.  A message that is not composed is message_read()'s alone:
 * the caller chooses.
 */
int compose_read(const struct compose_options *co, int in_fd,
    const char *spool_dir, const struct message_options *mo, struct message *m,
    struct error *err);

/* --print: the composed message to out_fd instead of the spool. */
int compose_print(const struct compose_options *co, int in_fd, int out_fd,
    const struct message_options *mo, struct error *err);

#endif
