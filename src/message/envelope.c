/* SPDX-License-Identifier: ISC */
/*
 * The one envelope type: its construction from the message and the
 * options, and its lines in a queue file.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "address.h"
#include "cli.h"
#include "envelope.h"
#include "error.h"
#include "message.h"

void
envelope_init(struct envelope *env)
{
	memset(env, 0, sizeof(*env));
}

void
envelope_free(struct envelope *env)
{
	size_t i;

	free(env->sender);
	for (i = 0; i < env->n_rcpts; i++)
		free(env->rcpts[i]);
	free(env->rcpts);
	free(env->dsn_notify);
	free(env->dsn_return);
	free(env->dsn_envid);
	envelope_init(env);
}

void
envelope_derive(struct envelope *env)
{
	size_t i;

	env->needs_smtputf8 = !address_is_ascii(env->sender);
	for (i = 0; i < env->n_rcpts && !env->needs_smtputf8; i++)
		if (!address_is_ascii(env->rcpts[i]))
			env->needs_smtputf8 = true;
}

/* *dst = a copy of s (NULL stays NULL); false when out of memory. */
static bool
copy(char **dst, const char *s)
{
	*dst = s != NULL ? strdup(s) : NULL;
	return s == NULL || *dst != NULL;
}

int
envelope_build(struct envelope *env, const char *sender, char *const *rcpts,
    size_t n_rcpts, const struct message *msg, const struct options *o,
    const struct account *a, struct error *err)
{
	size_t i;

	envelope_init(env);
	if (!copy(&env->sender, sender != NULL ? sender : "") ||
	    !copy(&env->dsn_notify,
		o->dsn_notify != NULL ? o->dsn_notify : a->dsn_notify) ||
	    !copy(&env->dsn_return,
		o->dsn_return != NULL ? o->dsn_return : a->dsn_return) ||
	    !copy(&env->dsn_envid, o->dsn_envid))
		goto oom;
	if (n_rcpts > 0 &&
	    (env->rcpts = calloc(n_rcpts, sizeof(*env->rcpts))) == NULL)
		goto oom;
	for (i = 0; i < n_rcpts; i++) {
		if (!copy(&env->rcpts[i], rcpts[i]))
			goto oom;
		env->n_rcpts++;
	}
	/* RFC 6152: -B says what the body is; without it, its bytes do. */
	if (o->body_type != NULL)
		env->body_8bit = strcasecmp(o->body_type, "8BITMIME") == 0;
	else
		env->body_8bit = msg->has_8bit;
	envelope_derive(env);
	return 0;
oom:
	envelope_free(env);
	return error_set(err, EX_OSERR, "out of memory");
}

/* ---- the lines of a queue file ------------------------------------------
 */

int
envelope_write(const struct envelope *env, envelope_put_fn put, void *arg,
    struct error *err)
{
	size_t i;

	if (put(arg, "sender", env->sender, err) == -1)
		return -1;
	for (i = 0; i < env->n_rcpts; i++) {
		if (env->rcpts[i] == NULL || env->rcpts[i][0] == '\0')
			return error_set(err, EX_SOFTWARE,
			    "empty recipient in queue envelope");
		if (put(arg, "rcpt", env->rcpts[i], err) == -1)
			return -1;
	}
	if ((env->dsn_notify != NULL &&
		put(arg, "dsn-notify", env->dsn_notify, err) == -1) ||
	    (env->dsn_return != NULL &&
		put(arg, "dsn-return", env->dsn_return, err) == -1) ||
	    (env->dsn_envid != NULL &&
		put(arg, "dsn-envid", env->dsn_envid, err) == -1))
		return -1;
	return put(arg, "body", env->body_8bit ? "8bitmime" : "7bit", err);
}

void
envelope_reader_init(struct envelope_reader *r, struct envelope *env)
{
	memset(r, 0, sizeof(*r));
	r->env = env;
}

static int
take(char **dst, const char *v, const char *key, struct error *err)
{
	if (*dst != NULL)
		return error_set(err, EX_DATAERR, "duplicate %s", key);
	if ((*dst = strdup(v)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	return 0;
}

static int
add_rcpt(struct envelope_reader *r, const char *v, struct error *err)
{
	struct envelope *env = r->env;

	if (*v == '\0')
		return error_set(err, EX_DATAERR, "empty rcpt");
	if (env->n_rcpts == r->rcpt_cap) {
		size_t ncap = r->rcpt_cap ? r->rcpt_cap * 2 : 8;
		char **nr = reallocarray(env->rcpts, ncap, sizeof(*nr));

		if (nr == NULL)
			return error_set(err, EX_OSERR, "out of memory");
		env->rcpts = nr;
		r->rcpt_cap = ncap;
	}
	if ((env->rcpts[env->n_rcpts] = strdup(v)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");
	env->n_rcpts++;
	return 0;
}

int
envelope_read_field(struct envelope_reader *r, const char *key,
    const char *value, struct error *err)
{
	struct envelope *env = r->env;

	if (strcmp(key, "sender") == 0)
		return take(&env->sender, value, key, err);
	if (strcmp(key, "rcpt") == 0)
		return add_rcpt(r, value, err);
	if (strcmp(key, "dsn-notify") == 0)
		return take(&env->dsn_notify, value, key, err);
	if (strcmp(key, "dsn-return") == 0)
		return take(&env->dsn_return, value, key, err);
	if (strcmp(key, "dsn-envid") == 0)
		return take(&env->dsn_envid, value, key, err);
	if (strcmp(key, "body") != 0)
		return 1;
	if (strcmp(value, "8bitmime") == 0)
		env->body_8bit = true;
	else if (strcmp(value, "7bit") != 0)
		return error_set(err, EX_DATAERR, "bad body");
	if (r->body_seen)
		return error_set(err, EX_DATAERR, "duplicate body");
	r->body_seen = true;
	return 0;
}

bool
envelope_read_done(struct envelope_reader *r)
{
	if (r->env->sender == NULL || !r->body_seen)
		return false;
	envelope_derive(r->env);
	return true;
}
