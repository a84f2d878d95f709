/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The JSON codec: Nomad's corpus job round-trips without losing a field,
 * random messages of every type survive JSON -> struct -> protobuf ->
 * struct -> JSON, and bad input of every kind gets a clear error.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "test.h"
#include "core/alloc.h"
#include "structs/pb.h"
#include "random.h"

/* ---- helpers ------------------------------------------------------------ */

static char *encode(const ProtobufCMessage *m, unsigned flags)
{
	char *out = NULL;
	size_t len = 0;
	nomad_error err;
	CHECK_OK(nomad_msg_to_json(m, flags, NULL, &out, &len, &err));
	CHECK_INT(strlen(out), len);
	return out;
}

static ProtobufCMessage *decode(const ProtobufCMessageDescriptor *d,
				const char *json, unsigned flags)
{
	ProtobufCMessage *m = NULL;
	nomad_error err;
	nomad_json_options o = NOMAD_JSON_OPTIONS_INIT;
	o.flags = flags;
	if (nomad_msg_from_json(&m, d, json, strlen(json), &o, NULL, &err))
		nmd_test_fail(__FILE__, __LINE__, "decode failed: %s",
			      err.message);
	return m;
}

/* Decode expecting failure; returns the message (static storage). */
static const char *decode_error(const ProtobufCMessageDescriptor *d,
				const char *json, unsigned flags,
				nomad_err want)
{
	static nomad_error err;
	ProtobufCMessage *m = (ProtobufCMessage *)1;
	nomad_json_options o = NOMAD_JSON_OPTIONS_INIT;
	nomad_err rc;
	o.flags = flags;
	rc = nomad_msg_from_json(&m, d, json, strlen(json), &o, NULL, &err);
	if (rc != want)
		nmd_test_fail(__FILE__, __LINE__,
			      "%s: got %d (%s), want %d", json, rc,
			      rc ? err.message : "ok", want);
	CHECK(m == NULL);
	CHECK_INT(err.code, want);
	return err.message;
}

/* Every member of `in` is in `out` with an equal value. */
static void check_superset(const cJSON *in, const cJSON *out, const char *path)
{
	const cJSON *item;
	if (cJSON_IsObject(in)) {
		CHECK(cJSON_IsObject(out));
		cJSON_ArrayForEach(item, in) {
			const cJSON *o = cJSON_GetObjectItemCaseSensitive(
				out, item->string);
			if (!o)
				nmd_test_fail(__FILE__, __LINE__,
					      "%s.%s lost in re-encoding", path,
					      item->string);
			check_superset(item, o, item->string);
		}
		return;
	}
	if (cJSON_IsArray(in)) {
		CHECK(cJSON_IsArray(out));
		CHECK_INT(cJSON_GetArraySize(in), cJSON_GetArraySize(out));
		for (int i = 0; i < cJSON_GetArraySize(in); i++)
			check_superset(cJSON_GetArrayItem(in, i),
				       cJSON_GetArrayItem(out, i), path);
		return;
	}
	if (!cJSON_Compare(in, out, 1))
		nmd_test_fail(__FILE__, __LINE__, "%s changed value", path);
}

/* ---- the corpus ------------------------------------------------------------ */

static char *corpus_file(const char *name)
{
	char path[512];
	const char *dir = nmd_test_corpus_dir();
	char *text;
	if (!dir)
		nmd_test_skip("../shared/corpus is absent");
	snprintf(path, sizeof(path), "%s/api/%s", dir, name);
	if (!(text = nmd_test_read_file(path, NULL)))
		nmd_test_skip("corpus file is absent");
	return text;
}

NMD_TEST(test_structs_json__corpus_roundtrip_keeps_every_field)
{
	char *text = corpus_file("example-short.json");
	ProtobufCMessage *a, *b;
	char *once, *twice;
	cJSON *in, *out;

	/* Strict: every member of Nomad's own output is in our schema. */
	a = decode(&nomad__job_register_request__descriptor, text,
		   NOMAD_JSON_STRICT | NOMAD_JSON_CASE_SENSITIVE);
	once = encode(a, NOMAD_JSON_PRETTY);
	b = decode(&nomad__job_register_request__descriptor, once,
		   NOMAD_JSON_STRICT);
	CHECK(nomad_msg_equal(a, b));
	twice = encode(b, NOMAD_JSON_PRETTY);
	CHECK_STR(once, twice); /* stable */

	in = cJSON_Parse(text);
	out = cJSON_Parse(once);
	CHECK(in && out);
	check_superset(in, out, "");
	cJSON_Delete(in);
	cJSON_Delete(out);
	nomad_free(once);
	nomad_free(twice);
	nomad_msg_free(a, NULL);
	nomad_msg_free(b, NULL);
	free(text);
}

NMD_TEST(test_structs_json__corpus_values)
{
	char *text = corpus_file("example-short.json");
	nomad_job_register_request *r;
	const nomad_task *t;
	CHECK_OK(nomad_job_register_request_from_json(&r, text, strlen(text),
						      NULL, NULL));
	CHECK_STR(r->job->id, "example");
	CHECK(r->job->region == NULL); /* explicit null: unset */
	CHECK(!r->job->has_priority);
	CHECK_INT(r->job->n_datacenters, 1);
	CHECK_STR(r->job->datacenters[0], "dc1");
	CHECK_INT(r->job->n_taskgroups, 1);
	t = r->job->taskgroups[0]->tasks[0];
	CHECK_STR(t->driver, "docker");
	CHECK_STR(t->user, ""); /* "" is kept, not unset */
	CHECK(t->has_leader && !t->leader);
	CHECK_INT(t->resources->cpu, 500);
	CHECK(!t->resources->has_cores);
	CHECK_STR(t->config->json,
		  "{\"auth_soft_fail\":true,\"image\":\"redis:7\","
		  "\"ports\":[\"db\"]}");
	CHECK_INT(r->job->taskgroups[0]->networks[0]->dynamicports[0]->to,
		  6379);
	nomad_job_register_request_free(r);
	free(text);
}

/* ---- random messages of every type -------------------------------------- */

static void roundtrip_random(const ProtobufCMessageDescriptor *d,
			     uint64_t seed)
{
	ProtobufCMessage *m = nmd_pb_new(d, NULL), *j, *p, *c;
	uint8_t *bytes;
	size_t len;
	char *text, *again, *compact;
	tr_fill(m, seed);

	text = encode(m, NOMAD_JSON_PRETTY);
	j = decode(d, text, NOMAD_JSON_STRICT | NOMAD_JSON_CASE_SENSITIVE);
	if (!nomad_msg_equal(m, j)) {
		char where[512] = "";
		tr_first_difference(m, j, where, sizeof(where));
		nmd_test_fail(__FILE__, __LINE__,
			      "%s seed %llu: JSON round trip differs at %s",
			      d->name, (unsigned long long)seed, where);
	}
	CHECK_OK(nomad_msg_pack(j, NULL, &bytes, &len));
	CHECK_OK(nomad_msg_unpack(&p, d, bytes, len, NULL, NULL));
	CHECK(nomad_msg_equal(m, p));
	CHECK_OK(nomad_msg_copy(&c, p, NULL));
	CHECK(nomad_msg_equal(m, c));
	again = encode(c, NOMAD_JSON_PRETTY);
	CHECK_STR(text, again);
	/* Compact and pretty are the same document. */
	compact = encode(c, 0);
	nomad_msg_free(j, NULL);
	j = decode(d, compact, NOMAD_JSON_STRICT);
	CHECK(nomad_msg_equal(m, j));

	nomad_free(text);
	nomad_free(again);
	nomad_free(compact);
	nomad_free(bytes);
	nomad_msg_free(m, NULL);
	nomad_msg_free(j, NULL);
	nomad_msg_free(p, NULL);
	nomad_msg_free(c, NULL);
}

NMD_TEST(test_structs_json__random_roundtrip_every_type)
{
	static const ProtobufCMessageDescriptor *const types[] = {
		&nomad__job__descriptor, &nomad__node__descriptor,
		&nomad__allocation__descriptor, &nomad__evaluation__descriptor,
		&nomad__deployment__descriptor, &nomad__job_summary__descriptor,
		&nomad__plan__descriptor, &nomad__plan_result__descriptor,
		&nomad__job_register_request__descriptor,
		&nomad__job_diff__descriptor,
		&nomad__job_list_stub__descriptor,
		&nomad__node_list_stub__descriptor,
		&nomad__allocation_list_stub__descriptor,
		&nomad__namespace__descriptor, &nomad__node_pool__descriptor,
		&nomad__aclpolicy__descriptor, &nomad__acltoken__descriptor,
		&nomad__variable__descriptor,
		&nomad__service_registration__descriptor,
		&nomad__scheduler_configuration__descriptor,
		&nomad__periodic_launch__descriptor};
	for (size_t t = 0; t < sizeof(types) / sizeof(*types); t++)
		for (uint64_t seed = 1; seed <= 40; seed++)
			roundtrip_random(types[t], seed * 131 + t);
}

/* ---- exact values ------------------------------------------------------ */

NMD_TEST(test_structs_json__int64_and_uint64_are_exact)
{
	const char *in = "{\"Priority\":-2147483648,"
			 "\"SubmitTime\":1700000000123456789,"
			 "\"CreateIndex\":18446744073709551615}";
	nomad_job *j = (nomad_job *)decode(&nomad__job__descriptor, in, 0);
	char *out;
	CHECK(j->submittime == 1700000000123456789LL);
	CHECK(j->createindex == UINT64_MAX);
	CHECK_INT(j->priority, INT32_MIN);
	out = encode(&j->base, NOMAD_JSON_OMIT_EMPTY);
	CHECK_STR(out, in);
	nomad_free(out);
	nomad_job_free(j);
}

NMD_TEST(test_structs_json__doubles_use_go_format)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {{0.1, "0.1"},        {1e21, "1e+21"},
		     {1e20, "100000000000000000000"},
		     {1e-7, "1e-7"},      {0.000001, "0.000001"},
		     {-2.5, "-2.5"},      {123456789.125, "123456789.125"},
		     {3, "3"},            {1.0 / 3, "0.3333333333333333"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		Nomad__NodeScoreMeta *m =
			nmd_pb_new(&nomad__node_score_meta__descriptor, NULL);
		char want[64], *out;
		m->has_normscore = 1;
		m->normscore = cases[i].v;
		out = encode(&m->base, NOMAD_JSON_OMIT_EMPTY);
		snprintf(want, sizeof(want), "{\"NormScore\":%s}", cases[i].text);
		CHECK_STR(out, want);
		nmd_pb_free(m, NULL);
		m = (Nomad__NodeScoreMeta *)decode(
			&nomad__node_score_meta__descriptor, out, 0);
		CHECK(m->normscore == cases[i].v);
		nomad_free(out);
		nmd_pb_free(m, NULL);
	}
}

NMD_TEST(test_structs_json__times_are_rfc3339_in_utc)
{
	const char *in = "{\"StartedAt\":\"2024-03-01T12:30:00.5+02:00\","
			 "\"FinishedAt\":\"0001-01-01T00:00:00Z\"}";
	Nomad__TaskState *s = (Nomad__TaskState *)decode(
		&nomad__task_state__descriptor, in, 0);
	char *out = encode(&s->base, NOMAD_JSON_OMIT_EMPTY);
	CHECK_STR(out, "{\"StartedAt\":\"2024-03-01T10:30:00.5Z\","
		       "\"FinishedAt\":\"0001-01-01T00:00:00Z\"}");
	CHECK(s->finishedat->seconds == -62135596800LL);
	nomad_free(out);
	nmd_pb_free(s, NULL);
}

NMD_TEST(test_structs_json__bytes_are_base64)
{
	nomad_job *j = (nomad_job *)decode(&nomad__job__descriptor,
					   "{\"Payload\":\"aGVsbG8=\"}", 0);
	char *out;
	CHECK(j->has_payload);
	CHECK_INT(j->payload.len, 5);
	CHECK(memcmp(j->payload.data, "hello", 5) == 0);
	out = encode(&j->base, NOMAD_JSON_OMIT_EMPTY);
	CHECK_STR(out, "{\"Payload\":\"aGVsbG8=\"}");
	nomad_free(out);
	nomad_job_free(j);
}

NMD_TEST(test_structs_json__maps_sorted_last_duplicate_wins)
{
	nomad_job *j = (nomad_job *)decode(
		&nomad__job__descriptor,
		"{\"Meta\":{\"z\":\"1\",\"a\":\"2\",\"z\":\"3\",\"m\":null}}", 0);
	char *out = encode(&j->base, NOMAD_JSON_OMIT_EMPTY);
	CHECK_STR(out, "{\"Meta\":{\"a\":\"2\",\"m\":null,\"z\":\"3\"}}");
	CHECK_STR(nomad_map_get(j->meta, j->n_meta, "z"), "3");
	CHECK(nomad_map_get(j->meta, j->n_meta, "nope") == NULL);
	nomad_free(out);
	nomad_job_free(j);
}

NMD_TEST(test_structs_json__duplicate_members_last_wins)
{
	nomad_job *j = (nomad_job *)decode(
		&nomad__job__descriptor,
		"{\"ID\":\"a\",\"ID\":\"b\",\"Datacenters\":[\"x\"],"
		"\"Datacenters\":[\"y\",\"z\"],\"Update\":{\"Canary\":1},"
		"\"Update\":{\"MaxParallel\":2},\"ID\":null}",
		0);
	CHECK(j->id == NULL);
	CHECK_INT(j->n_datacenters, 2);
	CHECK_STR(j->datacenters[0], "y");
	CHECK(!j->update->has_canary);
	CHECK_INT(j->update->maxparallel, 2);
	nomad_job_free(j);
}

NMD_TEST(test_structs_json__names_match_case_insensitively_like_go)
{
	nomad_job *j = (nomad_job *)decode(
		&nomad__job__descriptor,
		"{\"id\":\"web\",\"taskgroups\":[{\"NAME\":\"g\"}]}", 0);
	CHECK_STR(j->id, "web");
	CHECK_STR(j->taskgroups[0]->name, "g");
	nomad_job_free(j);
	decode_error(&nomad__job__descriptor, "{\"id\":\"web\"}",
		     NOMAD_JSON_STRICT | NOMAD_JSON_CASE_SENSITIVE,
		     NOMAD_EINVAL);
}

NMD_TEST(test_structs_json__unknown_members_ignored_unless_strict)
{
	nomad_job *j = (nomad_job *)decode(
		&nomad__job__descriptor,
		"{\"Bogus\":{\"deep\":[1,{\"x\":[]}]},\"ID\":\"x\"}", 0);
	CHECK_STR(j->id, "x");
	nomad_job_free(j);
	CHECK_CONTAINS(decode_error(&nomad__job__descriptor,
				    "{\"TaskGroups\":[{\"Bogus\":1}]}",
				    NOMAD_JSON_STRICT, NOMAD_EINVAL),
		       "TaskGroups[0]: unknown field \"Bogus\" in TaskGroup");
}

NMD_TEST(test_structs_json__omit_empty)
{
	nomad_job *j = nomad_job_new();
	char *out = encode(&j->base, NOMAD_JSON_OMIT_EMPTY);
	CHECK_STR(out, "{}");
	nomad_free(out);
	out = encode(&j->base, 0);
	CHECK_CONTAINS(out, "\"Region\":null");
	CHECK_CONTAINS(out, "\"TaskGroups\":null");
	nomad_free(out);
	nomad_job_free(j);
}

/* ---- bad input ----------------------------------------------------------- */

NMD_TEST(test_structs_json__wrong_types_name_the_path)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{"{\"TaskGroups\":[{\"Count\":\"3\"}]}",
		 "1:25: TaskGroups[0].Count: expected an integer, got string"},
		{"{\"Priority\":1.5}", "Priority: expected an integer, got 1.5"},
		{"{\"Priority\":1e2}", "Priority: expected an integer, got 1e2"},
		{"{\"AllAtOnce\":\"true\"}", "AllAtOnce: expected a boolean, got string"},
		{"{\"ID\":5}", "ID: expected a string, got number"},
		{"{\"Datacenters\":\"dc1\"}", "Datacenters: expected an array, got string"},
		{"{\"Meta\":[]}", "Meta: expected an object, got array"},
		{"{\"Meta\":{\"k\":1}}", "Meta[k]: expected a string, got number"},
		{"{\"Update\":[]}", "Update: expected an object, got array"},
		{"{\"TaskGroups\":[null]}", "TaskGroups[0]: expected an object, got null"},
		{"{\"TaskGroups\":[{\"Tasks\":[{\"Resources\":{\"MemoryMB\":true}}]}]}",
		 "TaskGroups[0].Tasks[0].Resources.MemoryMB: expected an integer, got boolean"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		CHECK_CONTAINS(decode_error(&nomad__job__descriptor,
					    cases[i].json, 0, NOMAD_EINVAL),
			       cases[i].want);
}

NMD_TEST(test_structs_json__unknown_enum_values)
{
	const char *msg = decode_error(&nomad__job__descriptor,
				       "{\"Type\":\"servic\"}", 0, NOMAD_EINVAL);
	CHECK_CONTAINS(msg, "Type: unknown value \"servic\"");
	CHECK_CONTAINS(msg, "service, batch, system, sysbatch");
	/* Exact spellings: evals are canceled, deployments cancelled. */
	decode_error(&nomad__evaluation__descriptor,
		     "{\"Status\":\"cancelled\"}", 0, NOMAD_EINVAL);
	decode_error(&nomad__deployment__descriptor,
		     "{\"Status\":\"canceled\"}", 0, NOMAD_EINVAL);
	nomad_msg_free(decode(&nomad__evaluation__descriptor,
			      "{\"Status\":\"canceled\"}", 0), NULL);
	nomad_msg_free(decode(&nomad__deployment__descriptor,
			      "{\"Status\":\"cancelled\"}", 0), NULL);
	/* "" is Go's zero value: unset */
	nomad_job *j = (nomad_job *)decode(&nomad__job__descriptor,
					   "{\"Type\":\"\"}", 0);
	CHECK(!j->has_type);
	nomad_job_free(j);
}

NMD_TEST(test_structs_json__numbers_out_of_range)
{
	CHECK_CONTAINS(decode_error(&nomad__job__descriptor,
				    "{\"Priority\":2147483648}", 0, NOMAD_ERANGE),
		       "out of range for a 32-bit integer");
	CHECK_CONTAINS(decode_error(&nomad__job__descriptor,
				    "{\"SubmitTime\":9223372036854775808}", 0,
				    NOMAD_ERANGE),
		       "SubmitTime: number 9223372036854775808 is out of range");
	CHECK_CONTAINS(decode_error(&nomad__job__descriptor,
				    "{\"CreateIndex\":-1}", 0, NOMAD_ERANGE),
		       "unsigned 64-bit");
	decode_error(&nomad__job__descriptor,
		     "{\"CreateIndex\":184467440737095516150}", 0, NOMAD_ERANGE);
	decode_error(&nomad__node_score_meta__descriptor,
		     "{\"NormScore\":1e999}", 0, NOMAD_ERANGE);
}

NMD_TEST(test_structs_json__malformed_json)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{"", "1:1: unexpected end of input, expected a value"},
		{"{", "unexpected end of input, expected an object key"},
		{"{\"ID\":\"x\",}", "1:11: unexpected character '}', expected an object key"},
		{"{\"ID\" \"x\"}", "expected ':' after an object key"},
		{"{\"ID\":\"x\"} {}", "expected end of input after the JSON value"},
		{"{\"ID\":\"x}", "unterminated string"},
		{"{\"ID\":\"\\q\"}", "invalid escape in string"},
		{"{\"ID\":\"a\nb\"}", "control character 0x0a in string"},
		{"{\"ID\":tru}", "expected a value"},
		{"{\"Priority\":01}", "expected ',' or '}'"},
		{"{\"Priority\":-}", "expected a digit"},
		{"{\"Priority\":1.}", "expected a digit after '.'"},
		{"{\"ID\":\"x\"\n,\n\"Name\":]}", "3:8: unexpected character ']'"},
		{"[1]", "expected a JSON object for Job, got array"},
		{"null", "expected a JSON object for Job, got null"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		ProtobufCMessage *m = NULL;
		nomad_error err;
		nomad_err rc = nomad_msg_from_json(
			&m, &nomad__job__descriptor, cases[i].json,
			strlen(cases[i].json), NULL, NULL, &err);
		CHECK(rc == NOMAD_EPARSE || rc == NOMAD_EINVAL);
		CHECK(m == NULL);
		CHECK_CONTAINS(err.message, cases[i].want);
	}
}

NMD_TEST(test_structs_json__error_carries_file_line_column)
{
	nomad_error err;
	nomad_job *j;
	nomad_json_options o = NOMAD_JSON_OPTIONS_INIT;
	const char *in = "{\n  \"ID\": \"x\",\n  \"Priority\": \"high\"\n}";
	o.name = "web.json";
	CHECK_INT(nomad_job_from_json(&j, in, strlen(in), &o, &err),
		  NOMAD_EINVAL);
	CHECK_STR(err.file, "web.json");
	CHECK_INT(err.line, 3);
	CHECK_INT(err.column, 15);
	CHECK_STR(err.message,
		  "web.json:3:15: Priority: expected an integer, got string");
}

NMD_TEST(test_structs_json__deep_nesting_is_refused)
{
	size_t depth = 100000;
	char *deep = malloc(depth * 2 + 64), *p = deep;
	p += sprintf(p, "{\"Bogus\":");
	for (size_t i = 0; i < depth; i++)
		*p++ = '[';
	for (size_t i = 0; i < depth; i++)
		*p++ = ']';
	strcpy(p, "}");
	CHECK_CONTAINS(decode_error(&nomad__job__descriptor, deep, 0,
				    NOMAD_EPARSE),
		       "nesting deeper than 128 levels");
	/* Inside a driver config too. */
	p = deep + sprintf(deep, "{\"TaskGroups\":[{\"Tasks\":[{\"Config\":");
	for (size_t i = 0; i < 300; i++)
		*p++ = '[';
	*p = '\0';
	decode_error(&nomad__job__descriptor, deep, 0, NOMAD_EPARSE);
	free(deep);
}

NMD_TEST(test_structs_json__huge_strings_and_lists_decode)
{
	size_t n = 8 << 20;
	char *big = malloc(n + 64), *p = big;
	nomad_job *j;
	p += sprintf(p, "{\"ID\":\"");
	memset(p, 'x', n);
	p += n;
	strcpy(p, "\"}");
	j = (nomad_job *)decode(&nomad__job__descriptor, big, 0);
	CHECK_INT(strlen(j->id), n);
	nomad_job_free(j);
	/* 200,000 datacenters: lists grow without quadratic cost. */
	p = big + sprintf(big, "{\"Datacenters\":[");
	for (int i = 0; i < 200000; i++)
		p += sprintf(p, "%s\"d%d\"", i ? "," : "", i);
	strcpy(p, "]}");
	j = (nomad_job *)decode(&nomad__job__descriptor, big, 0);
	CHECK_INT(j->n_datacenters, 200000);
	CHECK_STR(j->datacenters[199999], "d199999");
	nomad_job_free(j);
	free(big);
}

NMD_TEST(test_structs_json__strings_and_unicode)
{
	nomad_job *j = (nomad_job *)decode(
		&nomad__job__descriptor,
		"{\"ID\":\"\\u00e9\\ud83d\\ude80\\ud800x\\t\",\"Name\":\"a\xff"
		"b\"}",
		0);
	char *out;
	CHECK_STR(j->id, "\xc3\xa9\xf0\x9f\x9a\x80\xef\xbf\xbdx\t");
	CHECK_STR(j->name, "a\xef\xbf\xbd" "b"); /* invalid UTF-8: U+FFFD */
	out = encode(&j->base, NOMAD_JSON_OMIT_EMPTY);
	CHECK_STR(out, "{\"ID\":\"\xc3\xa9\xf0\x9f\x9a\x80\xef\xbf\xbdx\\t\","
		       "\"Name\":\"a\xef\xbf\xbd" "b\"}");
	nomad_free(out);
	nomad_job_free(j);
	CHECK_CONTAINS(decode_error(&nomad__job__descriptor,
				    "{\"ID\":\"a\\u0000b\"}", 0, NOMAD_EINVAL),
		       "ID: string contains a NUL character");
}

NMD_TEST(test_structs_json__bad_special_values)
{
	CHECK_CONTAINS(decode_error(&nomad__job__descriptor,
				    "{\"Payload\":\"aGVsbG8\"}", 0, NOMAD_EINVAL),
		       "Payload: invalid base64 data");
	CHECK_CONTAINS(decode_error(&nomad__task_state__descriptor,
				    "{\"StartedAt\":\"2024-13-01T00:00:00Z\"}",
				    0, NOMAD_EINVAL),
		       "StartedAt: invalid RFC 3339 time");
	CHECK_CONTAINS(decode_error(&nomad__task_state__descriptor,
				    "{\"StartedAt\":5}", 0, NOMAD_EINVAL),
		       "StartedAt: expected an RFC 3339 time string, got number");
}

NMD_TEST(test_structs_json__raw_config_kept_compact_and_exact)
{
	nomad_task *t = (nomad_task *)decode(
		&nomad__task__descriptor,
		"{\"Config\": { \"big\" : 12345678901234567890123 ,"
		" \"s\":\"\\u0041\\n\", \"l\" : [ ] , \"o\":{ } } }",
		0);
	CHECK_STR(t->config->json,
		  "{\"big\":12345678901234567890123,\"s\":\"A\\n\",\"l\":[],"
		  "\"o\":{}}");
	nmd_pb_free(t, NULL);
}

NMD_TEST(test_structs_json__options_version_checked)
{
	nomad_json_options o;
	ProtobufCMessage *m;
	nomad_error err;
	CHECK_INT(nomad_json_options_init(&o, 99), NOMAD_EINVAL);
	CHECK_OK(nomad_json_options_init(&o, NOMAD_JSON_OPTIONS_VERSION));
	o.version = 7;
	CHECK_INT(nomad_msg_from_json(&m, &nomad__job__descriptor, "{}", 2, &o,
				      NULL, &err),
		  NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "options version");
}

/* ---- protobuf and copies ---------------------------------------------------- */

NMD_TEST(test_structs_json__unpack_garbage_is_corrupt)
{
	static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1};
	nomad_job *j = (nomad_job *)1;
	nomad_error err;
	CHECK_INT(nomad_job_unpack(&j, junk, sizeof(junk), &err),
		  NOMAD_ECORRUPT);
	CHECK(j == NULL);
	CHECK_CONTAINS(err.message, "not a valid nomad.Job");
}

/* A custom allocator: every byte comes back. */
struct counting {
	long live;
	long calls;
};

static void *c_malloc(size_t n, void *ud)
{
	((struct counting *)ud)->live++;
	((struct counting *)ud)->calls++;
	return malloc(n);
}

static void *c_realloc(void *p, size_t n, void *ud)
{
	if (!p)
		((struct counting *)ud)->live++;
	((struct counting *)ud)->calls++;
	return realloc(p, n);
}

static void c_free(void *p, void *ud)
{
	if (p)
		((struct counting *)ud)->live--;
	free(p);
}

NMD_TEST(test_structs_json__custom_allocator_used_throughout)
{
	struct counting c = {0, 0};
	nomad_allocator a = {NOMAD_ALLOCATOR_VERSION, c_malloc, c_realloc,
			     c_free, &c};
	const char *in = "{\"ID\":\"x\",\"Meta\":{\"b\":\"1\",\"a\":\"2\"},"
			 "\"TaskGroups\":[{\"Name\":\"g\",\"Tasks\":[{\"Config\":"
			 "{\"a\":[1]}}]}],\"Payload\":\"aGk=\"}";
	ProtobufCMessage *m, *copy;
	char *out;
	size_t len;
	uint8_t *bytes;
	CHECK_OK(nomad_msg_from_json(&m, &nomad__job__descriptor, in,
				     strlen(in), NULL, &a, NULL));
	CHECK_OK(nomad_msg_to_json(m, NOMAD_JSON_PRETTY, &a, &out, &len, NULL));
	CHECK_OK(nomad_msg_copy(&copy, m, &a));
	CHECK_OK(nomad_msg_pack(copy, &a, &bytes, &len));
	CHECK(c.calls > 10);
	a.free(out, a.userdata);
	a.free(bytes, a.userdata);
	nomad_msg_free(m, &a);
	nomad_msg_free(copy, &a);
	CHECK_INT(c.live, 0);
	/* A failing decode returns everything too. */
	CHECK(nomad_msg_from_json(&m, &nomad__job__descriptor, in,
				  strlen(in) - 3, NULL, &a, NULL) != NOMAD_OK);
	CHECK_INT(c.live, 0);
}

/* An allocator that fails after N calls: no crash, no leak, ENOMEM. */
struct failing {
	long left;
	long live;
};

static void *f_malloc(size_t n, void *ud)
{
	struct failing *f = ud;
	if (f->left-- <= 0)
		return NULL;
	f->live++;
	return malloc(n);
}

static void *f_realloc(void *p, size_t n, void *ud)
{
	struct failing *f = ud;
	if (f->left-- <= 0)
		return NULL;
	if (!p)
		f->live++;
	return realloc(p, n);
}

static void f_free(void *p, void *ud)
{
	if (p)
		((struct failing *)ud)->live--;
	free(p);
}

NMD_TEST(test_structs_json__out_of_memory_at_every_step)
{
	const char *in = "{\"Job\":{\"ID\":\"x\",\"Meta\":{\"b\":\"1\",\"a\":\"2\"},"
			 "\"TaskGroups\":[{\"Name\":\"g\",\"Tasks\":[{\"Config\":"
			 "{\"a\":[1,\"\\u00e9\"]},\"Env\":{\"K\":\"V\"}}]}]}}";
	bool succeeded = false;
	for (long n = 0; n < 400 && !succeeded; n++) {
		struct failing f = {n, 0};
		nomad_allocator a = {NOMAD_ALLOCATOR_VERSION, f_malloc,
				     f_realloc, f_free, &f};
		ProtobufCMessage *m = NULL, *copy = NULL;
		char *out = NULL;
		nomad_err rc = nomad_msg_from_json(
			&m, &nomad__job_register_request__descriptor, in,
			strlen(in), NULL, &a, NULL);
		if (rc == NOMAD_OK) {
			rc = nomad_msg_to_json(m, NOMAD_JSON_PRETTY, &a, &out,
					       NULL, NULL);
			if (rc == NOMAD_OK)
				rc = nomad_msg_copy(&copy, m, &a);
			succeeded = rc == NOMAD_OK;
		}
		CHECK(rc == NOMAD_OK || rc == NOMAD_ENOMEM);
		nmd_free(&a, out);
		nomad_msg_free(m, &a);
		nomad_msg_free(copy, &a);
		CHECK_INT(f.live, 0);
	}
	CHECK(succeeded);
}

NMD_TEST(test_structs_json__enum_names)
{
	int v;
	CHECK_STR(nomad_enum_name(&nomad__job_type__descriptor,
				  NOMAD__JOB_TYPE__sysbatch),
		  "sysbatch");
	CHECK(nomad_enum_name(&nomad__job_type__descriptor, 99) == NULL);
	CHECK_OK(nomad_enum_value(&nomad__evaluation__status_kind__descriptor,
				  "canceled", &v));
	CHECK_INT(v, NOMAD__EVALUATION__STATUS_KIND__canceled);
	CHECK_INT(nomad_enum_value(&nomad__job_type__descriptor, "Service", &v),
		  NOMAD_ENOTFOUND);
}
