/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Log levels and the two line formats Nomad's agents write through hclog:
 *
 *   2024-01-01T00:00:00.000Z [INFO]  raft: message: key=value key2="a b"
 *   {"@level":"info","@message":"message","@module":"raft",
 *    "@timestamp":"2024-01-01T00:00:00.000000Z","key":"value"}
 *
 * The library itself never writes logs anywhere; these are for the
 * callback and the apps, which want lines that look like Nomad's. Both
 * formatters write into the caller's buffer with snprintf's contract and
 * allocate nothing.
 */
#include <stdbool.h>
#include <string.h>

#include <nomad/core.h>

#include "core/core_int.h"

#define NS_PER_SEC INT64_C(1000000000)

static const char *const level_names[] = {
	[NOMAD_LOG_TRACE] = "TRACE", [NOMAD_LOG_DEBUG] = "DEBUG",
	[NOMAD_LOG_INFO] = "INFO",   [NOMAD_LOG_WARN] = "WARN",
	[NOMAD_LOG_ERROR] = "ERROR", [NOMAD_LOG_OFF] = "OFF",
};

#define N_LEVELS (sizeof(level_names) / sizeof(level_names[0]))

const char *nomad_log_level_name(nomad_log_level level)
{
	if ((unsigned int)level >= N_LEVELS)
		return "UNKNOWN";
	return level_names[level];
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive compare of s[0..n) with a NUL-terminated name;
 * no locale involved. */
static bool eq_nocase(const char *s, size_t n, const char *name)
{
	size_t i = 0;

	for (; i < n && name[i]; i++)
		if (lower(s[i]) != lower(name[i]))
			return false;
	return i == n && name[i] == '\0';
}

nomad_err nomad_log_level_parse(const char *name, nomad_log_level *out)
{
	size_t n;

	if (!name || !out)
		return NOMAD_EINVAL;
	/* hclog's LevelFromString trims surrounding space too. */
	while (*name == ' ' || *name == '\t')
		name++;
	n = strlen(name);
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < N_LEVELS; i++)
		if (eq_nocase(name, n, level_names[i])) {
			*out = (nomad_log_level)i;
			return NOMAD_OK;
		}
	if (eq_nocase(name, n, "warning")) {
		*out = NOMAD_LOG_WARN;
		return NOMAD_OK;
	}
	return NOMAD_EINVAL;
}

/* ------------------------------------------------------------------ */
/* A bounded writer with snprintf's contract                           */

struct sink {
	char *buf;
	size_t cap;
	size_t len; /* what the whole output needs, NUL not counted */
};

static void put(struct sink *s, const char *p, size_t n)
{
	if (s->cap > 0 && s->len < s->cap - 1) {
		size_t room = s->cap - 1 - s->len;
		memcpy(s->buf + s->len, p, n < room ? n : room);
	}
	s->len += n;
}

static void emit_sink(void *sink, const char *p, size_t n)
{
	put(sink, p, n);
}

static void puts_(struct sink *s, const char *str)
{
	put(s, str, strlen(str));
}

static size_t finish(struct sink *s)
{
	if (s->cap > 0)
		s->buf[s->len < s->cap ? s->len : s->cap - 1] = '\0';
	return s->len;
}

static void put_time(struct sink *s, int64_t ns, unsigned int digits)
{
	char tmp[NMD_TIME_TEXT_MAX + 1];
	int64_t sec = ns / NS_PER_SEC, frac = ns % NS_PER_SEC;
	size_t n = nmd_time_format_utc(sec, frac, digits, false, tmp);

	put(s, tmp, n);
}

/* ------------------------------------------------------------------ */
/* Text                                                                */

/* The escape Go's strconv.Quote writes for the character at p[0..len),
 * or NULL when it stays as is; *adv is the character's length. */
static const char *quote_escape(const unsigned char *p, size_t len,
				size_t *adv, char tmp[8])
{
	static const char hex[] = "0123456789abcdef";
	uint32_t cp;

	*adv = 1;
	switch (p[0]) {
	case '\a': return "\\a";
	case '\b': return "\\b";
	case '\f': return "\\f";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	case '\v': return "\\v";
	case '"': return "\\\"";
	case '\\': return "\\\\";
	}
	if (p[0] >= 0x20 && p[0] < 0x7f)
		return NULL;
	if (p[0] >= 0x80) {
		*adv = nmd_utf8_decode(p, len, &cp);
		/* C1 controls and the line/paragraph separators are not
		 * printable for Go: \u escapes. */
		if (*adv > 0 && ((cp >= 0x80 && cp < 0xa0) || cp == 0x2028 ||
				 cp == 0x2029)) {
			memcpy(tmp, "\\u", 2);
			for (int i = 0; i < 4; i++)
				tmp[2 + i] = hex[(cp >> (12 - 4 * i)) & 0xf];
			tmp[6] = '\0';
			return tmp;
		}
		if (*adv > 0)
			return NULL;
		*adv = 1;
	}
	/* Other ASCII controls, DEL and bytes of invalid UTF-8. */
	memcpy(tmp, "\\x", 2);
	tmp[2] = hex[p[0] >> 4];
	tmp[3] = hex[p[0] & 0xf];
	tmp[4] = '\0';
	return tmp;
}

static bool needs_quotes(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t len = strlen(v), adv;
	char tmp[8];

	if (len == 0)
		return true;
	for (size_t i = 0; i < len; i += adv) {
		const char *esc = quote_escape(p + i, len - i, &adv, tmp);
		if (p[i] == ' ' || p[i] == '=' || (esc && p[i] != '\\'))
			return true;
	}
	return false;
}

static void put_quoted(struct sink *s, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t len = strlen(v), run = 0, adv;
	char tmp[8];

	put(s, "\"", 1);
	for (size_t i = 0; i < len; i += adv) {
		const char *esc = quote_escape(p + i, len - i, &adv, tmp);
		if (!esc)
			continue;
		put(s, v + run, i - run);
		puts_(s, esc);
		run = i + adv;
	}
	put(s, v + run, len - run);
	put(s, "\"", 1);
}

static const char *bracket(nomad_log_level level)
{
	/* hclog pads the bracketed level to eight columns. */
	switch (level) {
	case NOMAD_LOG_TRACE: return "[TRACE] ";
	case NOMAD_LOG_DEBUG: return "[DEBUG] ";
	case NOMAD_LOG_INFO: return "[INFO]  ";
	case NOMAD_LOG_WARN: return "[WARN]  ";
	case NOMAD_LOG_ERROR: return "[ERROR] ";
	default: return "[?????] ";
	}
}

size_t nomad_log_format_text(const nomad_log_record *rec, char *buf,
			     size_t cap)
{
	struct sink s = {buf, cap, 0};
	const char *msg = rec && rec->message ? rec->message : "";
	bool sub = rec && rec->subsystem && rec->subsystem[0];

	if (!rec)
		return finish(&s);
	put_time(&s, rec->time_unix_ns, 3);
	put(&s, " ", 1);
	puts_(&s, bracket(rec->level));
	/* As hclog: "name: msg", "name" or "msg". */
	if (sub) {
		puts_(&s, rec->subsystem);
		if (msg[0])
			put(&s, ": ", 2);
	}
	puts_(&s, msg);
	if (rec->kvs && rec->n_kvs > 0)
		put(&s, ":", 1);
	for (size_t i = 0; rec->kvs && i < rec->n_kvs; i++) {
		const char *k = rec->kvs[i].key ? rec->kvs[i].key : "";
		const char *v = rec->kvs[i].value ? rec->kvs[i].value : "";
		put(&s, " ", 1);
		puts_(&s, k);
		put(&s, "=", 1);
		if (needs_quotes(v))
			put_quoted(&s, v);
		else
			puts_(&s, v);
	}
	put(&s, "\n", 1);
	return finish(&s);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static void put_jstr(struct sink *s, const char *v)
{
	put(s, "\"", 1);
	if (v)
		nmd_json_escape(v, strlen(v), emit_sink, s);
	put(s, "\"", 1);
}

static void put_member(struct sink *s, const char *key, const char *value)
{
	put(s, ",", 1);
	put_jstr(s, key);
	put(s, ":", 1);
	put_jstr(s, value);
}

size_t nomad_log_format_json(const nomad_log_record *rec, char *buf,
			     size_t cap)
{
	static const char *const lower_names[] = {
		"trace", "debug", "info", "warn", "error", "off",
	};
	struct sink s = {buf, cap, 0};
	unsigned int lv;

	if (!rec)
		return finish(&s);
	lv = (unsigned int)rec->level;
	/* hclog's keys, in the order its map encoding sorts them. */
	puts_(&s, "{\"@level\":");
	put_jstr(&s, lv < N_LEVELS ? lower_names[lv] : "unknown");
	put_member(&s, "@message", rec->message ? rec->message : "");
	if (rec->subsystem && rec->subsystem[0])
		put_member(&s, "@module", rec->subsystem);
	puts_(&s, ",\"@timestamp\":\"");
	put_time(&s, rec->time_unix_ns, 6);
	put(&s, "\"", 1);
	for (size_t i = 0; rec->kvs && i < rec->n_kvs; i++)
		put_member(&s, rec->kvs[i].key ? rec->kvs[i].key : "",
			   rec->kvs[i].value ? rec->kvs[i].value : "");
	put(&s, "}\n", 2);
	return finish(&s);
}
