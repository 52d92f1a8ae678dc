/* SPDX-License-Identifier: ISC */
/*
 * struct account: one resolved account profile (after [defaults],
 * inherit and provider presets), as config.c produces it and the rest of
 * the program reads it.  Plain data, no behaviour.
 */
#ifndef MAILSUB_ACCOUNT_H
#define MAILSUB_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum account_tls {
	ACCOUNT_TLS_STARTTLS,
	ACCOUNT_TLS_ON, /* implicit TLS, RFC 8314 */
	ACCOUNT_TLS_OFF,
};

enum account_auth {
	ACCOUNT_AUTH_DEFAULT, /* on when user is set */
	ACCOUNT_AUTH_ON,
	ACCOUNT_AUTH_OFF,
	ACCOUNT_AUTH_LIST, /* auth_mechs names the mechanisms allowed */
};

/* Where OAuth2 tokens come from (oauth.h). */
enum account_oauth2_provider {
	ACCOUNT_OAUTH2_NONE,
	ACCOUNT_OAUTH2_GOOGLE,
	ACCOUNT_OAUTH2_MICROSOFT,
	ACCOUNT_OAUTH2_CUSTOM, /* the oauth2_*_url keys name the endpoints */
};

enum account_from_header {
	ACCOUNT_FROM_FIX,
	ACCOUNT_FROM_KEEP,
	ACCOUNT_FROM_FORCE,
};

enum account_on_tempfail {
	ACCOUNT_TEMPFAIL_QUEUE,	   /* queue, exit 75 */
	ACCOUNT_TEMPFAIL_QUEUE_OK, /* queue, exit 0 */
};

struct account {
	char *name;
	char *config_path; /* file the account came from */
	bool system;	   /* from /etc/mailsub.conf */

	/* Server */
	char **hosts; /* failover order */
	size_t n_hosts;
	unsigned port;
	char *provider;
	char *domain;	/* EHLO name; NULL = the host's FQDN */
	char *mailname; /* /etc/mailname's domain, or NULL */
	char *source_ip;
	unsigned timeout;	  /* seconds per I/O step */
	unsigned connect_timeout; /* seconds */

	/* TLS */
	enum account_tls tls;
	char *tls_trust_file;
	char *tls_fingerprint; /* "sha256:..." */
	char *tls_cert_file;
	char *tls_key_file;
	char *tls_priorities;
	char *tls_server_name;

	/* Auth */
	enum account_auth auth;
	char **auth_mechs; /* upper case, for ACCOUNT_AUTH_LIST */
	size_t n_auth_mechs;
	char *user;
	struct buf password; /* the password key; wiped on free */
	bool has_password;
	char *password_file;
	char *password_command;
	bool allow_plaintext_auth;

	/* OAuth2 (oauth.h): tokens fetched and kept by mailsub itself when
	 * oauth2_client_id is set */
	enum account_oauth2_provider oauth2_provider;
	char *oauth2_client_id;
	struct buf oauth2_client_secret; /* wiped on free */
	bool has_oauth2_client_secret;
	char *oauth2_client_secret_file;
	char *oauth2_client_secret_command;
	char *oauth2_tenant;   /* Microsoft: common, a tenant id, ... */
	char *oauth2_auth_url; /* each NULL: the provider's */
	char *oauth2_token_url;
	char *oauth2_device_url;
	char *oauth2_scope;
	char *oauth2_trust_file; /* CA file for the endpoints; NULL: the
				    system store */

	/* Addresses */
	char *from;
	char **senders; /* patterns: exact, *@domain, fnmatch */
	size_t n_senders;
	char **local_senders; /* "USER:PATTERN": in the system file,
				 who may send as what (USER may be
				 "*", every user) */
	size_t n_local_senders;
	char *default_domain;	      /* or, when unset, /etc/mailname's */
	bool default_domain_mailname; /* it came from /etc/mailname */
	char *aliases;		      /* path to an /etc/aliases-format file */
	bool add_headers;	      /* add_headers = auto */
	enum account_from_header from_header;

	/* DSN defaults */
	char *dsn_notify;
	char *dsn_return;

	/* Reliability */
	char *queue_dir;
	long queue_lifetime;  /* seconds */
	long failed_lifetime; /* seconds in failed/; 0 = for ever */
	enum account_on_tempfail on_tempfail;
	unsigned long long max_message_size; /* bytes; 0 = no limit */

	/* Logging */
	char *logfile;
	int syslog_facility; /* -1 = off, else LOG_MAIL etc. */
};

#endif
