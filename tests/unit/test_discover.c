/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for discover.c (--configure): the DNS SRV answer parser on
 * canned packets (compression, loops, truncation, hostile targets, error
 * RCODEs), the choice between records, address checks and the printed
 * section for a preset.  No DNS server is ever asked.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "discover.h"
#include "error.h"

/* A packet under construction. */
struct pkt {
	unsigned char b[2048];
	size_t n;
};

static void
put(struct pkt *p, const void *data, size_t n)
{
	assert_true(p->n + n <= sizeof(p->b));
	memcpy(p->b + p->n, data, n);
	p->n += n;
}

static void
put16(struct pkt *p, unsigned v)
{
	unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};

	put(p, b, 2);
}

/* A name in labels: "a.b.c" -> 1a1b1c0. */
static void
put_name(struct pkt *p, const char *name)
{
	while (*name != '\0') {
		size_t l = strcspn(name, ".");
		unsigned char c = (unsigned char)l;

		put(p, &c, 1);
		put(p, name, l);
		name += l;
		if (*name == '.')
			name++;
	}
	put(p, "", 1);
}

static void
header(struct pkt *p, unsigned rcode, unsigned qd, unsigned an)
{
	p->n = 0;
	put16(p, 0x1234);
	put16(p, 0x8180 | rcode); /* response, RD, RA */
	put16(p, qd);
	put16(p, an);
	put16(p, 0);
	put16(p, 0);
}

static void
question(struct pkt *p, const char *name)
{
	put_name(p, name);
	put16(p, 33);
	put16(p, 1);
}

/* An SRV answer whose owner is a pointer to the question (offset 12). */
static void
srv(struct pkt *p, unsigned prio, unsigned weight, unsigned port,
    const char *target)
{
	struct pkt t;

	t.n = 0;
	put_name(&t, target);
	put16(p, 0xc00c);
	put16(p, 33);
	put16(p, 1);
	put16(p, 0);
	put16(p, 300);
	put16(p, (unsigned)(6 + t.n));
	put16(p, prio);
	put16(p, weight);
	put16(p, port);
	put(p, t.b, t.n);
}

static void
test_parse_two_records(void **state)
{
	struct pkt p;
	struct discover_srv out[4];
	struct error err;
	size_t n;
	const struct discover_srv *best;

	header(&p, 0, 1, 2);
	question(&p, "_submissions._tcp.example.com");
	srv(&p, 10, 5, 465, "backup.example.com");
	srv(&p, 0, 1, 465, "mail.example.com");
	error_clear(&err);
	assert_int_equal(discover_parse_srv(p.b, p.n, out, 4, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].target, "backup.example.com");
	assert_int_equal(out[1].port, 465);
	best = discover_pick(out, n);
	assert_non_null(best);
	assert_string_equal(best->target, "mail.example.com");
}

static void
test_pick_weight_and_dot(void **state)
{
	struct discover_srv s[3];

	memset(s, 0, sizeof(s));
	s[0].priority = 5;
	s[0].weight = 1;
	s[0].port = 587;
	strcpy(s[0].target, "a.example");
	s[1] = s[0];
	s[1].weight = 9;
	strcpy(s[1].target, "b.example");
	assert_string_equal(discover_pick(s, 2)->target, "b.example");
	/* RFC 2782: "." alone means no service. */
	strcpy(s[2].target, ".");
	s[2].priority = 0;
	s[2].port = 0;
	assert_null(discover_pick(&s[2], 1));
	assert_null(discover_pick(s, 0));
}

static void
test_parse_compressed_target(void **state)
{
	struct pkt p;
	struct discover_srv out[2];
	struct error err;
	size_t n;

	/* Target "smtp" + pointer to "example.com" inside the question. */
	header(&p, 0, 1, 1);
	question(&p, "_submission._tcp.example.com");
	put16(&p, 0xc00c);
	put16(&p, 33);
	put16(&p, 1);
	put16(&p, 0);
	put16(&p, 60);
	put16(&p, 6 + 5 + 2);
	put16(&p, 0);
	put16(&p, 0);
	put16(&p, 587);
	put(&p, "\x04smtp", 5);
	/* "example.com" starts after 1+11 ("_submission") + 1+4 ("_tcp"). */
	put16(&p, 0xc000 | (12 + 12 + 5));
	error_clear(&err);
	assert_int_equal(discover_parse_srv(p.b, p.n, out, 2, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].target, "smtp.example.com");
	assert_int_equal(out[0].port, 587);
}

static void
test_parse_rejects(void **state)
{
	struct pkt p;
	struct discover_srv out[2];
	struct error err;
	size_t n, cut;

	/* Too short, and not a response. */
	error_clear(&err);
	assert_int_equal(
	    discover_parse_srv((const unsigned char *)"x", 1, out, 2, &n, &err),
	    -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	header(&p, 0, 0, 0);
	p.b[2] = 0x01;
	assert_int_equal(discover_parse_srv(p.b, p.n, out, 2, &n, &err), -1);

	/* NXDOMAIN: no records, no error. */
	header(&p, 3, 1, 0);
	question(&p, "_submissions._tcp.example.com");
	error_clear(&err);
	assert_int_equal(discover_parse_srv(p.b, p.n, out, 2, &n, &err), 0);
	assert_int_equal(n, 0);

	/* Every truncation of a good packet fails or yields no record, and
	 * never reads outside (ASan watches). */
	header(&p, 0, 1, 1);
	question(&p, "_submissions._tcp.example.com");
	srv(&p, 0, 0, 465, "mail.example.com");
	for (cut = 0; cut < p.n; cut++) {
		unsigned char *copy = malloc(cut ? cut : 1);

		memcpy(copy, p.b, cut);
		error_clear(&err);
		if (discover_parse_srv(copy, cut, out, 2, &n, &err) == 0)
			assert_int_equal(n, 0);
		free(copy);
	}

	/* A compression loop. */
	header(&p, 0, 1, 0);
	put16(&p, 0xc00c); /* points at itself */
	put16(&p, 33);
	put16(&p, 1);
	error_clear(&err);
	assert_int_equal(discover_parse_srv(p.b, p.n, out, 2, &n, &err), -1);

	/* A record whose data runs past the packet. */
	header(&p, 0, 1, 1);
	question(&p, "_submissions._tcp.example.com");
	srv(&p, 0, 0, 465, "mail.example.com");
	p.b[p.n - 26] = 0xff; /* rdlength high byte */
	error_clear(&err);
	assert_int_equal(discover_parse_srv(p.b, p.n, out, 2, &n, &err), -1);
}

static void
test_parse_hostile_target(void **state)
{
	struct pkt p;
	struct discover_srv out[4];
	struct error err;
	size_t n;

	/* A target with a newline or '=' would write its own config line:
	 * skipped; the good record stays. */
	header(&p, 0, 1, 3);
	question(&p, "_submissions._tcp.example.com");
	srv(&p, 0, 0, 465, "evil\npassword_command = x.example");
	srv(&p, 0, 0, 465, "a;b.example");
	srv(&p, 5, 0, 465, "ok.example.com");
	error_clear(&err);
	assert_int_equal(discover_parse_srv(p.b, p.n, out, 4, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].target, "ok.example.com");

	/* More records than room: the first max are kept. */
	header(&p, 0, 1, 3);
	question(&p, "_submissions._tcp.example.com");
	srv(&p, 0, 0, 465, "a.example");
	srv(&p, 0, 0, 465, "b.example");
	srv(&p, 0, 0, 465, "c.example");
	assert_int_equal(discover_parse_srv(p.b, p.n, out, 2, &n, &err), 0);
	assert_int_equal(n, 2);
}

static void
test_check_address(void **state)
{
	struct error err;
	const char *dom;

	error_clear(&err);
	assert_int_equal(
	    discover_check_address("alice@example.com", &dom, &err), 0);
	assert_string_equal(dom, "example.com");
	assert_int_equal(discover_check_address("alice", &dom, &err), -1);
	assert_int_equal(err.exit_code, EX_USAGE);
	assert_int_equal(
	    discover_check_address("@example.com", &dom, &err), -1);
	assert_int_equal(discover_check_address("a@localhost", &dom, &err), -1);
	assert_int_equal(
	    discover_check_address("a;b@example.com", &dom, &err), -1);
	assert_int_equal(
	    discover_check_address("a@b@example.com", &dom, &err), -1);
	assert_int_equal(
	    discover_check_address("a\n@example.com", &dom, &err), -1);
	assert_int_equal(
	    discover_check_address("a@ex_ample.com", &dom, &err), -1);
}

static char *
run_to_string(const char *address, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct error err;

	assert_non_null(f);
	error_clear(&err);
	*rc = discover_run(address, f, &err);
	fclose(f);
	return text;
}

static void
test_run_preset(void **state)
{
	int rc;
	char *out = run_to_string("alice@gmail.com", &rc);

	/* A preset domain: no DNS lookup, the provider key; the section is
	 * named after the address, so a second one at the provider gets
	 * its own. */
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\n[alice@gmail.com]\n"));
	assert_non_null(strstr(
	    out, "\npassword_file = ~/.config/mailsub/alice@gmail.com.pw\n"));
	assert_non_null(strstr(out, "\nprovider = gmail\n"));
	assert_non_null(strstr(out, "\nuser = alice@gmail.com\n"));
	assert_non_null(strstr(out, "\nfrom = alice@gmail.com\n"));
	assert_non_null(strstr(out, "app password"));
	assert_null(strstr(out, "\nhost = "));
	free(out);
	out = run_to_string("Bob.Smith+list@GMail.com", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\n[bob.smith+list@gmail.com]\n"));
	assert_non_null(strstr(out, "\nuser = Bob.Smith+list@GMail.com\n"));
	free(out);
	/* what a section name cannot hold: the domain's first label */
	out = run_to_string("o'brien@gmail.com", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\n[gmail]\n"));
	free(out);
	out = run_to_string(
	    "a-very-long-local-part-that-goes-on-and-on-and-on-and-on-"
	    "x@gmail.com",
	    &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\n[gmail]\n"));
	free(out);
	out = run_to_string("bad address@x.com", &rc);
	assert_int_equal(rc, -1);
	free(out);
}

/* An MX answer whose owner is a pointer to the question. */
static void
mx(struct pkt *p, unsigned pref, const char *host)
{
	struct pkt t;

	t.n = 0;
	put_name(&t, host);
	put16(p, 0xc00c);
	put16(p, 15);
	put16(p, 1);
	put16(p, 0);
	put16(p, 300);
	put16(p, (unsigned)(2 + t.n));
	put16(p, pref);
	put(p, t.b, t.n);
}

static void
test_parse_mx(void **state)
{
	struct pkt p;
	struct discover_mx out[4];
	struct error err;
	size_t n;

	(void)state;
	header(&p, 0, 1, 4);
	question(&p, "example.com");
	mx(&p, 20, "ALT1.aspmx.l.google.com");
	mx(&p, 10, "aspmx.l.google.com");
	mx(&p, 5, "bad_host;x.example"); /* skipped: not a host name */
	/* A compressed exchange: "mx" + pointer to "example.com". */
	put16(&p, 0xc00c);
	put16(&p, 15);
	put16(&p, 1);
	put16(&p, 0);
	put16(&p, 300);
	put16(&p, 2 + 3 + 2);
	put16(&p, 30);
	put(&p, "\x02mx", 3);
	put16(&p, 0xc00c);
	error_clear(&err);
	assert_int_equal(discover_parse_mx(p.b, p.n, out, 4, &n, &err), 0);
	assert_int_equal(n, 3);
	/* Sorted by preference, lower case. */
	assert_string_equal(out[0].host, "aspmx.l.google.com");
	assert_int_equal(out[0].preference, 10);
	assert_string_equal(out[1].host, "alt1.aspmx.l.google.com");
	assert_string_equal(out[2].host, "mx.example.com");
	assert_ptr_equal(config_provider_for_mx(out[0].host),
	    config_provider_find("workspace"));
	/* NXDOMAIN: no records, no error. */
	header(&p, 3, 1, 0);
	question(&p, "none.example");
	assert_int_equal(discover_parse_mx(p.b, p.n, out, 4, &n, &err), 0);
	assert_int_equal(n, 0);
	/* Cut short, or not a response: EX_PROTOCOL. */
	header(&p, 0, 1, 1);
	question(&p, "example.com");
	mx(&p, 10, "mx.example.com");
	assert_int_equal(discover_parse_mx(p.b, p.n - 4, out, 4, &n, &err), -1);
	assert_int_equal(err.exit_code, EX_PROTOCOL);
	p.b[2] &= 0x7f;
	assert_int_equal(discover_parse_mx(p.b, p.n, out, 4, &n, &err), -1);
}

static void
test_mx_providers(void **state)
{
	static const struct {
		const char *mx, *preset;
	} cases[] = {
	    {"contoso-com.mail.protection.outlook.com", "office365"},
	    {"contoso-com.mail.protection.outlook.com.", "office365"},
	    {"eur.olc.protection.outlook.com", "outlook"},
	    {"aspmx.l.google.com", "workspace"},
	    {"smtp.google.com", "workspace"},
	    {"aspmx3.googlemail.com", "workspace"},
	    {"mailstore1.secureserver.net", "godaddy"},
	    {"mx.zoho.com", "zoho"},
	    {"mx2.zoho.eu", "zoho-eu"},
	    {"in1-smtp.messagingengine.com", "fastmail"},
	    {"mx01.mail.icloud.com", "icloud"},
	    {"mailsec.protonmail.ch", "proton"},
	    {"mxext1.mailbox.org", "mailboxorg"},
	    {"mx.yandex.net", "yandex"},
	    {"emx.mail.ru", "mailru"},
	};
	const struct config_provider *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = config_provider_for_mx(cases[i].mx);
		if (p == NULL || strcmp(p->name, cases[i].preset) != 0)
			fail_msg("%s: %s, want %s", cases[i].mx,
			    p != NULL ? p->name : "none", cases[i].preset);
	}
	/* Only whole labels: look-alikes are nobody's. */
	assert_null(config_provider_for_mx("evilzoho.com"));
	assert_null(config_provider_for_mx("mail.protection.outlook.com.evil"));
	assert_null(config_provider_for_mx("notgoogle.com"));
	assert_null(config_provider_for_mx("mx.example.org"));
	assert_null(config_provider_for_mx(""));
}

/* Address domains and their presets (config_provider.c names each source). */
static void
test_preset_domains(void **state)
{
	static const struct {
		const char *domain, *preset;
	} cases[] = {
	    {"outlook.de", "outlook"},
	    {"hotmail.co.uk", "outlook"},
	    {"live.fr", "outlook"},
	    {"HOTMAIL.FR", "outlook"},
	    {"outlook.com.br", "outlook"},
	    {"live.co.uk", "outlook"},
	    {"ymail.com", "yahoo"},
	    {"yahoo.co.uk", "yahoo"},
	    {"yahoo.de", "yahoo"},
	    {"rocketmail.com", "yahoo"},
	    {"gmx.com", "gmx-com"},
	    {"gmx.co.uk", "gmx-com"},
	    {"gmx.de", "gmx"},
	    {"gmx.net", "gmx"},
	    {"mail.ru", "mailru"},
	    {"bk.ru", "mailru"},
	    {"inbox.ru", "mailru"},
	    {"list.ru", "mailru"},
	};
	const struct config_provider *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = config_provider_for_domain(cases[i].domain);
		if (p == NULL || strcmp(p->name, cases[i].preset) != 0)
			fail_msg("%s: %s, want %s", cases[i].domain,
			    p != NULL ? p->name : "none", cases[i].preset);
	}
	p = config_provider_find("gmx-com");
	assert_string_equal(p->host, "mail.gmx.com");
	assert_int_equal(p->port, 465);
	assert_int_equal(p->tls, ACCOUNT_TLS_ON);
	p = config_provider_find("mailru");
	assert_string_equal(p->host, "smtp.mail.ru");
	assert_int_equal(p->port, 465);
	assert_int_equal(p->tls, ACCOUNT_TLS_ON);
	assert_null(config_provider_for_domain("outlook.example"));
	assert_null(config_provider_for_domain("gmx.example"));
}

static void
test_format_srv(void **state)
{
	struct discover_result r;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	memset(&r, 0, sizeof(r));
	strcpy(r.section, "example");
	strcpy(r.host, "mail.example.com");
	r.port = 465;
	r.tls = ACCOUNT_TLS_ON;
	strcpy(r.source, "from the SRV record _submissions._tcp.example.com");
	discover_format("bob@example.com", &r, f);
	fclose(f);
	assert_non_null(strstr(text, "\n[example]\nhost = mail.example.com\n"
				     "port = 465\ntls = on\n"));
	assert_non_null(strstr(text, "\npassword_file = "));
	free(text);
}

static char *
format_preset(const char *provider, const char *address)
{
	struct discover_result r;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	memset(&r, 0, sizeof(r));
	snprintf(r.section, sizeof(r.section), "%s", provider);
	r.provider = provider;
	r.provider_note = config_provider_note(provider);
	discover_format(address, &r, f);
	fclose(f);
	return text;
}

/* Microsoft's presets: OAuth2 only, the client id to fill in and the
 * login command; Gmail: the app password, or OAuth2. */
static void
test_format_oauth2(void **state)
{
	char *text;

	(void)state;
	text = format_preset("outlook", "bob@outlook.com");
	assert_non_null(strstr(text, "\n;oauth2_client_id = "));
	assert_non_null(strstr(text, "mailsub --oauth2-login outlook\n"));
	assert_non_null(strstr(text, "mailsub.conf(5), OAUTH2"));
	assert_null(strstr(text, "password_file"));
	assert_null(strstr(text, "oauth2_tenant"));
	free(text);
	text = format_preset("office365", "bob@example.com");
	assert_non_null(strstr(text, "\n;oauth2_tenant = organizations\n"));
	assert_null(strstr(text, "password_file"));
	free(text);
	text = format_preset("gmail", "bob@gmail.com");
	assert_non_null(
	    strstr(text, "\npassword_file = ~/.config/mailsub/gmail.pw\n"));
	assert_non_null(strstr(text, "\n;oauth2_client_id = "));
	assert_non_null(strstr(text, "\n;oauth2_client_secret_file = "));
	assert_non_null(strstr(text, "\"Desktop app\""));
	free(text);
	text = format_preset("fastmail", "bob@fastmail.com");
	assert_null(strstr(text, "oauth2"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_two_records),
	    cmocka_unit_test(test_pick_weight_and_dot),
	    cmocka_unit_test(test_parse_compressed_target),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_parse_hostile_target),
	    cmocka_unit_test(test_check_address),
	    cmocka_unit_test(test_run_preset),
	    cmocka_unit_test(test_preset_domains),
	    cmocka_unit_test(test_parse_mx),
	    cmocka_unit_test(test_mx_providers),
	    cmocka_unit_test(test_format_srv),
	    cmocka_unit_test(test_format_oauth2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
