/* SPDX-License-Identifier: ISC */
/*
 * --configure: where an address's submission server is.  Presets first
 * (they also carry the provider's login notes), then the provider whose
 * MX hosts receive the domain's mail (as Thunderbird's account setup
 * looks: most Microsoft 365 and Google Workspace users have a domain of
 * their own), then RFC 6186 SRV records; RFC 8314 5.1 prefers implicit
 * TLS, so _submissions._tcp is asked first.
 */
#include "autoconfig.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "discover.h"
#include "error.h"

/* RFC 1035 4.1.1 */
#define DNS_HEADER   12
#define DNS_TYPE_SRV 33 /* RFC 2782 */
#define DNS_CLASS_IN 1
/* A name can hold at most 127 labels; more jumps than that is a loop. */
#define DNS_JUMPS_MAX 128
/* The answer buffer for res_query: large enough for TCP fallback. */
#define DNS_ANSWER_MAX 65535

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/*
 * Read the name at *pos (RFC 1035 3.1, 4.1.4 compression) into name (may
 * be NULL to skip), advancing *pos past it in the message.  Returns 0 or
 * -1 for a bad name.
 */
static int
read_name(
    const unsigned char *msg, size_t len, size_t *pos, char *name, size_t size)
{
	size_t p = *pos, out = 0;
	unsigned jumps = 0;
	bool jumped = false;

	for (;;) {
		unsigned c;

		if (p >= len)
			return -1;
		c = msg[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++jumps > DNS_JUMPS_MAX)
				return -1;
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			p = (size_t)(c & 0x3f) << 8 | msg[p + 1];
			continue;
		}
		if ((c & 0xc0) != 0)
			return -1; /* RFC 6891 extended labels: not here */
		p++;
		if (c == 0)
			break;
		if (p + c > len || out + c + 1 > DISCOVER_NAME_MAX)
			return -1;
		if (name != NULL) {
			if (out + c + 2 > size)
				return -1;
			if (out > 0)
				name[out] = '.';
			memcpy(name + out + (out > 0), msg + p, c);
		}
		out += c + (out > 0);
		p += c;
	}
	if (!jumped)
		*pos = p;
	if (name != NULL) {
		if (out == 0) {
			if (size < 2)
				return -1;
			name[out++] = '.'; /* the root */
		}
		name[out] = '\0';
	}
	return 0;
}

/* RFC 952/1123 host name characters: what is safe to print into the
 * configuration file unquoted. */
static bool
host_ok(const char *s)
{
	if (*s == '\0' || *s == '.' || *s == '-')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return false;
	return true;
}

int
discover_parse_srv(const unsigned char *msg, size_t len,
    struct discover_srv *out, size_t max, size_t *n, struct error *err)
{
	unsigned qd, an, i;
	size_t pos = DNS_HEADER;

	*n = 0;
	if (len < DNS_HEADER)
		return error_set(err, EX_PROTOCOL, "DNS answer too short");
	if ((msg[2] & 0x80) == 0)
		return error_set(err, EX_PROTOCOL,
		    "DNS packet is not a "
		    "response");
	if ((msg[3] & 0x0f) != 0)
		return 0; /* NXDOMAIN, SERVFAIL...: no records */
	qd = get16(msg + 4);
	an = get16(msg + 6);
	for (i = 0; i < qd; i++) {
		if (read_name(msg, len, &pos, NULL, 0) == -1 || pos + 4 > len)
			return error_set(err, EX_PROTOCOL, "bad DNS question");
		pos += 4;
	}
	for (i = 0; i < an; i++) {
		unsigned type, class, rdlen;
		size_t rd;

		if (read_name(msg, len, &pos, NULL, 0) == -1 || pos + 10 > len)
			return error_set(err, EX_PROTOCOL,
			    "bad DNS answer "
			    "record");
		type = get16(msg + pos);
		class = get16(msg + pos + 2);
		rdlen = get16(msg + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			return error_set(err, EX_PROTOCOL,
			    "DNS record data "
			    "past the end of the packet");
		rd = pos;
		pos += rdlen;
		if (type != DNS_TYPE_SRV || class != DNS_CLASS_IN)
			continue; /* a CNAME on the way, say */
		if (rdlen < 7)
			return error_set(err, EX_PROTOCOL,
			    "SRV record too "
			    "short");
		if (*n >= max)
			continue;
		out[*n].priority = get16(msg + rd);
		out[*n].weight = get16(msg + rd + 2);
		out[*n].port = get16(msg + rd + 4);
		rd += 6;
		/* The target must lie inside this record's data. */
		if (read_name(msg, len, &rd, out[*n].target,
			sizeof(out[*n].target)) == -1 ||
		    rd > pos)
			return error_set(err, EX_PROTOCOL, "bad SRV target");
		if (strcmp(out[*n].target, ".") != 0 &&
		    !host_ok(out[*n].target))
			continue;
		(*n)++;
	}
	return 0;
}

int
discover_parse_mx(const unsigned char *msg, size_t len, struct discover_mx *out,
    size_t max, size_t *n, struct error *err)
{
	char name[NS_MAXDNAME];
	ns_msg h;
	ns_rr rr;
	int i, count;
	size_t j, k;

	*n = 0;
	if (len > DNS_ANSWER_MAX || ns_initparse(msg, (int)len, &h) == -1)
		return error_set(err, EX_PROTOCOL, "malformed DNS answer");
	if (ns_msg_getflag(h, ns_f_qr) == 0)
		return error_set(
		    err, EX_PROTOCOL, "DNS packet is not a response");
	if (ns_msg_getflag(h, ns_f_rcode) != ns_r_noerror)
		return 0; /* NXDOMAIN, SERVFAIL...: no records */
	count = ns_msg_count(h, ns_s_an);
	for (i = 0; i < count; i++) {
		const unsigned char *rd;

		if (ns_parserr(&h, ns_s_an, i, &rr) == -1)
			return error_set(
			    err, EX_PROTOCOL, "bad DNS answer record");
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in)
			continue; /* a CNAME on the way, say */
		rd = ns_rr_rdata(rr);
		if (ns_rr_rdlen(rr) < 3)
			return error_set(
			    err, EX_PROTOCOL, "MX record too short");
		/* The exchange must lie inside this record's data. */
		if (ns_name_uncompress(ns_msg_base(h), ns_msg_end(h), rd + 2,
			name, sizeof(name)) == -1)
			return error_set(err, EX_PROTOCOL, "bad MX host");
		if (!host_ok(name) || strlen(name) > DISCOVER_NAME_MAX ||
		    *n >= max)
			continue; /* "." (RFC 7505: no mail) too */
		/* Sorted by preference as they come in, stable. */
		for (j = *n; j > 0 && out[j - 1].preference > ns_get16(rd); j--)
			out[j] = out[j - 1];
		out[j].preference = ns_get16(rd);
		for (k = 0; name[k] != '\0'; k++)
			out[j].host[k] = (char)(name[k] >= 'A' && name[k] <= 'Z'
						    ? name[k] - 'A' + 'a'
						    : name[k]);
		out[j].host[k] = '\0';
		(*n)++;
	}
	return 0;
}

const struct discover_srv *
discover_pick(const struct discover_srv *srv, size_t n)
{
	const struct discover_srv *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (best == NULL || srv[i].priority < best->priority ||
		    (srv[i].priority == best->priority &&
			srv[i].weight > best->weight))
			best = &srv[i];
	}
	/* RFC 2782: a lone "." target says the service is not offered. */
	if (best != NULL && strcmp(best->target, ".") == 0)
		return NULL;
	if (best != NULL && best->port == 0)
		return NULL;
	return best;
}

int
discover_check_address(
    const char *address, const char **domain, struct error *err)
{
	const char *at = strrchr(address, '@');
	const char *p;

	for (p = address; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f || *p == ';' ||
		    *p == '#' || *p == '"' || *p == '=' || *p == '\\' ||
		    *p == '<' || *p == '>' || *p == ',')
			return error_set(err, EX_USAGE,
			    "--configure: the "
			    "address must be a plain local@domain");
	if (at == NULL || at == address || strchr(address, '@') != at ||
	    !host_ok(at + 1) || strchr(at + 1, '.') == NULL ||
	    strlen(address) > 254)
		return error_set(err, EX_USAGE,
		    "--configure: the address "
		    "must be a plain local@domain");
	*domain = at + 1;
	return 0;
}

/*
 * The account name: the address itself, in lower case, so that a second
 * address at the same provider gets a section of its own; section names
 * may hold letters, digits and . _ - @ + (mailsub.conf(5)).  An address
 * with other characters, or too long, gets its domain's first label.
 */
static void
section_name(const char *address, const char *domain, char *dst, size_t size)
{
	size_t i, n = 0;
	bool ok = strlen(address) < size;

	for (i = 0; ok && address[i] != '\0'; i++) {
		char c = address[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		     c == '.' || c == '_' || c == '-' || c == '@' || c == '+';
		dst[n++] = c;
	}
	if (ok && n > 0) {
		dst[n] = '\0';
		return;
	}
	n = 0;
	for (i = 0; domain[i] != '\0' && domain[i] != '.' && n + 1 < size;
	     i++) {
		char c = domain[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		dst[n++] = c;
	}
	dst[n] = '\0';
	if (n == 0)
		snprintf(dst, size, "mail");
}

void
discover_format(const char *address, const struct discover_result *r, FILE *out)
{
	enum account_oauth2_provider oauth2;
	bool oauth2_only;

	fprintf(
	    out, "; mailsub account for %s (mailsub --configure)\n", address);
	fprintf(out, "; %s\n", r->source);
	if (r->guessed)
		fprintf(out, "; check host, port and tls with your provider "
			     "before use\n");
	if (r->provider_note != NULL)
		fprintf(out, "; %s: %s\n", r->provider, r->provider_note);
	fprintf(out, "[%s]\n", r->section);
	if (r->provider != NULL)
		fprintf(out, "provider = %s\n", r->provider);
	else {
		fprintf(out, "host = %s\n", r->host);
		fprintf(out, "port = %u\n", r->port);
		fprintf(out, "tls = %s\n",
		    r->tls == ACCOUNT_TLS_ON	? "on"
		    : r->tls == ACCOUNT_TLS_OFF ? "off"
						: "starttls");
	}
	fprintf(out, "user = %s\n", address);
	fprintf(out, "from = %s\n", address);
	fprintf(out, "senders = %s\n", address);
	oauth2 = config_provider_oauth2(
	    config_provider_find(r->provider), &oauth2_only);
	if (oauth2_only) {
		/* Microsoft: nothing but a token (the preset says
		 * auth = XOAUTH2); mailsub ships no client id. */
		fprintf(out,
		    "; OAuth2: register an application (mailsub.conf(5), "
		    "OAUTH2, Microsoft),\n; put its client id below and "
		    "remove the ';', then run once:\n;   mailsub "
		    "--oauth2-login %s\n",
		    r->section);
		fprintf(out, ";oauth2_client_id = APPLICATION-CLIENT-ID\n");
		if (strcmp(r->provider, "outlook") != 0)
			fprintf(out, "; your tenant id or domain (default "
				     "common)\n;oauth2_tenant = "
				     "organizations\n");
		return;
	}
	fprintf(out, "; the password (or app password, or token): put it in "
		     "this file, mode 0600,\n; or use password_command instead "
		     "(mailsub.conf(5))\n");
	fprintf(out, "password_file = ~/.config/mailsub/%s.pw\n", r->section);
	if (oauth2 == ACCOUNT_OAUTH2_GOOGLE)
		fprintf(out,
		    "; or OAuth2 instead of the app password: register a "
		    "\"Desktop app\" client\n; (mailsub.conf(5), OAUTH2, "
		    "Google), remove password_file, remove the ';'\n; below "
		    "and fill them in, then run once: mailsub --oauth2-login "
		    "%s\n;oauth2_client_id = APPLICATION-CLIENT-ID\n"
		    ";oauth2_client_secret_file = "
		    "~/.config/mailsub/%s.secret\n",
		    r->section, r->section);
}

/* Ask the resolver for the SRV records of name: the best goes to *best,
 * *found tells whether there was one, why says why not. */
static void
lookup(const char *name, struct discover_srv *best, bool *found, char *why,
    size_t why_size)
{
	static unsigned char answer[DNS_ANSWER_MAX];
	struct discover_srv srv[DISCOVER_SRV_MAX];
	const struct discover_srv *pick;
	struct error err;
	size_t n;
	int len;

	*found = false;
	len = res_query(name, C_IN, T_SRV, answer, sizeof(answer));
	if (len < 0) {
		snprintf(why, why_size, "%s: %s", name,
		    h_errno == HOST_NOT_FOUND || h_errno == NO_DATA
			? "no record"
			: "lookup failed");
		return;
	}
	error_clear(&err);
	if (discover_parse_srv(
		answer, (size_t)len, srv, DISCOVER_SRV_MAX, &n, &err) == -1) {
		snprintf(why, why_size, "%.80s: %.200s", name, err.message);
		return;
	}
	if ((pick = discover_pick(srv, n)) == NULL) {
		snprintf(why, why_size, "%s: no service", name);
		return;
	}
	*best = *pick;
	*found = true;
}

/* The preset of the provider running the domain's MX hosts, the first
 * (by preference) that one runs; why says why not. */
static const struct config_provider *
lookup_mx(
    const char *domain, char *mx, size_t mx_size, char *why, size_t why_size)
{
	static unsigned char answer[DNS_ANSWER_MAX];
	struct discover_mx recs[DISCOVER_MX_MAX];
	const struct config_provider *p;
	struct error err;
	size_t n, i;
	int len;

	len = res_query(domain, C_IN, T_MX, answer, sizeof(answer));
	if (len < 0) {
		snprintf(why, why_size, "MX %s: %s", domain,
		    h_errno == HOST_NOT_FOUND || h_errno == NO_DATA
			? "no record"
			: "lookup failed");
		return NULL;
	}
	error_clear(&err);
	if (discover_parse_mx(
		answer, (size_t)len, recs, DISCOVER_MX_MAX, &n, &err) == -1) {
		snprintf(
		    why, why_size, "MX %.80s: %.200s", domain, err.message);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if ((p = config_provider_for_mx(recs[i].host)) != NULL) {
			snprintf(mx, mx_size, "%s", recs[i].host);
			return p;
		}
	snprintf(why, why_size, "MX %.80s: %s%.150s", domain,
	    n > 0 ? "no known provider at " : "no record",
	    n > 0 ? recs[0].host : "");
	return NULL;
}

int
discover_run(const char *address, FILE *out, struct error *err)
{
	struct discover_result r;
	const struct config_provider *p;
	const char *domain;
	char name[DISCOVER_NAME_MAX + 32];
	char why1[300], why2[300], why_mx[300], mx[DISCOVER_NAME_MAX + 1];
	struct discover_srv srv;
	bool found;

	if (discover_check_address(address, &domain, err) == -1)
		return -1;
	memset(&r, 0, sizeof(r));
	section_name(address, domain, r.section, sizeof(r.section));
	if ((p = config_provider_for_domain(domain)) != NULL) {
		r.provider = p->name;
		r.provider_note = p->note;
		snprintf(r.source, sizeof(r.source),
		    "provider preset %s: %s "
		    "port %u, %s",
		    p->name, p->host, p->port,
		    p->tls == ACCOUNT_TLS_ON ? "implicit TLS" : "STARTTLS");
		goto print;
	}
	if ((p = lookup_mx(domain, mx, sizeof(mx), why_mx, sizeof(why_mx))) !=
	    NULL) {
		r.provider = p->name;
		r.provider_note = p->note;
		snprintf(r.source, sizeof(r.source),
		    "the domain's mail server (MX) %.200s is %s's: provider "
		    "preset %s, %s port %u, %s",
		    mx, p->name, p->name, p->host, p->port,
		    p->tls == ACCOUNT_TLS_ON ? "implicit TLS" : "STARTTLS");
		goto print;
	}
	snprintf(name, sizeof(name), "_submissions._tcp.%s", domain);
	lookup(name, &srv, &found, why1, sizeof(why1));
	if (found) {
		r.tls = ACCOUNT_TLS_ON; /* RFC 6186 3.1 + RFC 8314 */
		snprintf(r.source, sizeof(r.source),
		    "from the SRV record %.280s "
		    "(implicit TLS, RFC 6186, RFC 8314)",
		    name);
	} else {
		snprintf(name, sizeof(name), "_submission._tcp.%s", domain);
		lookup(name, &srv, &found, why2, sizeof(why2));
		if (found) {
			r.tls = ACCOUNT_TLS_STARTTLS;
			snprintf(r.source, sizeof(r.source),
			    "from the SRV "
			    "record %.280s (STARTTLS, RFC 6186)",
			    name);
		}
	}
	if (found) {
		snprintf(r.host, sizeof(r.host), "%s", srv.target);
		r.port = srv.port;
	} else {
		r.guessed = true;
		snprintf(r.host, sizeof(r.host), "smtp.%s", domain);
		r.port = 587;
		r.tls = ACCOUNT_TLS_STARTTLS;
		snprintf(r.source, sizeof(r.source),
		    "no preset, no known MX and no SRV record (%.100s; "
		    "%.100s; %.100s): host is a guess",
		    why_mx, why1, why2);
	}
print:
	discover_format(address, &r, out);
	if (fflush(out) == EOF)
		return error_set(err, EX_IOERR, "cannot write the section");
	return 0;
}
