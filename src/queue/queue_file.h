/* SPDX-License-Identifier: ISC */
/*
 * The queue file's header as queue.c's store writes it (queue_file.c); the
 * reading side is queue_read_envelope() in queue.h.
 */
#ifndef MAILSUB_QUEUE_FILE_H
#define MAILSUB_QUEUE_FILE_H

#include "buf.h"
#include "envelope.h"
#include "error.h"
#include "queue.h"

/* Append the header of a queue file (version line, fields, blank line)
 * for env and meta to b; a value with a control character is
 * EX_SOFTWARE. */
int queue_file_format(struct buf *b, const struct envelope *env,
    const struct queue_meta *meta, struct error *err);

#endif
