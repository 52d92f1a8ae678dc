/* SPDX-License-Identifier: ISC */
/*
 * Unique names and random hex: the queue's message IDs and spool file
 * names (id_unique()), MIME boundaries and the random part of a Message-ID
 * (id_random_hex()).  Nothing here needs to be unpredictable, only
 * unique; what the names look like inside a file is their users' business.
 */
#ifndef MAILSUB_ID_H
#define MAILSUB_ID_H

#include <stddef.h>

/* Room for what id_unique() makes, with its NUL. */
#define ID_UNIQUE_MAX 64

/* The most hex digits id_random_hex() gives. */
#define ID_RANDOM_HEX_MAX 32

/* A fresh unique name, "TIME.PID.N.RANDOM" (hex time, decimal pid, a
 * counter, twelve hex digits): lower-case hex digits and dots only. */
void id_unique(char *id, size_t size);

/* n (at most ID_RANDOM_HEX_MAX) random lower-case hex digits and a NUL. */
void id_random_hex(char *dst, size_t n);

#endif
