/* SPDX-License-Identifier: ISC */
/*
 * The libFuzzer entry point every harness in tests/fuzz/ defines.  Built
 * with clang -fsanitize=fuzzer it is a fuzzer (campaign.sh); built with
 * replay.c it replays the harness's corpus in make check.
 */
#ifndef MAILSUB_FUZZ_H
#define MAILSUB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
