/* SPDX-License-Identifier: ISC */
/*
 * The configuration keys (internal to config*.c): every key mailsub.conf(5)
 * knows, the setter that checks one value and stores it in struct account,
 * and the account's built-in defaults.  config.c finds the keys in the file,
 * layers them and puts FILE:LINE: [account] key in front of any error.
 */
#ifndef MAILSUB_CONFIG_KEYS_H
#define MAILSUB_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "account.h"

struct error;

enum config_keys_id {
	CONFIG_KEYS_HOST,
	CONFIG_KEYS_PORT,
	CONFIG_KEYS_PROVIDER,
	CONFIG_KEYS_DOMAIN,
	CONFIG_KEYS_SOURCE_IP,
	CONFIG_KEYS_TIMEOUT,
	CONFIG_KEYS_CONNECT_TIMEOUT,
	CONFIG_KEYS_TLS,
	CONFIG_KEYS_TLS_TRUST_FILE,
	CONFIG_KEYS_TLS_FINGERPRINT,
	CONFIG_KEYS_TLS_CERT_FILE,
	CONFIG_KEYS_TLS_KEY_FILE,
	CONFIG_KEYS_TLS_PRIORITIES,
	CONFIG_KEYS_TLS_SERVER_NAME,
	CONFIG_KEYS_AUTH,
	CONFIG_KEYS_USER,
	CONFIG_KEYS_PASSWORD,
	CONFIG_KEYS_PASSWORD_FILE,
	CONFIG_KEYS_PASSWORD_COMMAND,
	CONFIG_KEYS_ALLOW_PLAINTEXT_AUTH,
	CONFIG_KEYS_OAUTH2_PROVIDER,
	CONFIG_KEYS_OAUTH2_CLIENT_ID,
	CONFIG_KEYS_OAUTH2_CLIENT_SECRET,
	CONFIG_KEYS_OAUTH2_CLIENT_SECRET_FILE,
	CONFIG_KEYS_OAUTH2_CLIENT_SECRET_COMMAND,
	CONFIG_KEYS_OAUTH2_TENANT,
	CONFIG_KEYS_OAUTH2_AUTH_URL,
	CONFIG_KEYS_OAUTH2_TOKEN_URL,
	CONFIG_KEYS_OAUTH2_DEVICE_URL,
	CONFIG_KEYS_OAUTH2_SCOPE,
	CONFIG_KEYS_OAUTH2_TRUST_FILE,
	CONFIG_KEYS_FROM,
	CONFIG_KEYS_SENDERS,
	CONFIG_KEYS_DEFAULT_DOMAIN,
	CONFIG_KEYS_ALIASES,
	CONFIG_KEYS_ADD_HEADERS,
	CONFIG_KEYS_FROM_HEADER,
	CONFIG_KEYS_DSN_NOTIFY,
	CONFIG_KEYS_DSN_RETURN,
	CONFIG_KEYS_QUEUE_DIR,
	CONFIG_KEYS_QUEUE_LIFETIME,
	CONFIG_KEYS_FAILED_LIFETIME,
	CONFIG_KEYS_ON_TEMPFAIL,
	CONFIG_KEYS_LOGFILE,
	CONFIG_KEYS_SYSLOG,
	CONFIG_KEYS_MAX_MESSAGE_SIZE,
	CONFIG_KEYS_LOCAL_SENDERS,
	CONFIG_KEYS_INHERIT, /* the loader's: no setter */
	CONFIG_KEYS_ACCOUNT, /* the loader's, [defaults] only: no setter */
	CONFIG_KEYS_COUNT,
};

/* The key called name (lower case, as iniparser stores it), or -1. */
int config_keys_find(const char *name);
/* Check value and store it in a, replacing what an earlier layer set.
 * Errors are EX_CONFIG (EX_OSERR) and never quote the value.  Not for
 * inherit and account. */
int config_keys_apply(struct account *a, enum config_keys_id id,
    const char *value, struct error *err);
/* password, password_file or password_command. */
bool config_keys_is_password_source(int id);
/* Forget every password source: a layer naming one replaces them all. */
void config_keys_clear_password(struct account *a);
/* oauth2_client_secret, _file or _command; and forgetting them, as for
 * the password. */
bool config_keys_is_client_secret_source(int id);
void config_keys_clear_client_secret(struct account *a);

/* An account with every built-in default set, or NULL (EX_OSERR). */
struct account *config_keys_account_new(
    const char *name, const char *path, bool system, struct error *err);
/* Free an account, wiping its secrets; NULL is a no-op. */
void config_keys_account_free(struct account *a);
/* The port for a TLS mode when nothing names one: 465, 587 or 25. */
unsigned config_keys_default_port(enum account_tls tls);
/* queue_dir when the file sets none: the system spool for the system
 * file, else under $XDG_STATE_HOME or ~/.local/state (malloc'd). */
int config_keys_default_queue_dir(bool system, char **out, struct error *err);
/* The mail domain in config_mailname_path (the first line), malloc'd;
 * NULL without an error when there is no such file or it holds no domain
 * of two labels or more.  EX_CONFIG when others may write it (fsperm.h). */
int config_keys_mailname(char **out, struct error *err);
/* 127.0.0.0/8, ::1 and localhost. */
bool config_keys_is_loopback(const char *host);

/* String helpers the loader shares; out of memory is EX_OSERR. */
char *config_keys_dup(const char *s, struct error *err);
char *config_keys_join(const char *a, const char *b, struct error *err);
void config_keys_free_list(char **list, size_t n);

#endif
