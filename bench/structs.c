/* SPDX-License-Identifier: MPL-2.0 */
/*
 * `make bench BENCH=structs`: how fast a realistic job moves between its
 * forms. The job has 3 groups and 6 tasks (a web tier with a sidecar, a
 * cache, a batch-style worker pair), canonicalised as the server stores
 * it, and encoded as the API sends it (every field, nulls included).
 *
 *   structs.job_json_roundtrip_per_s  decode the API JSON, encode it again
 *   structs.job_pb_roundtrip_per_s    pack to protobuf, unpack again
 */
#include <string.h>

#include <nomad/nomad.h>
#include <nomad/structs.h>

#include "bench.h"

static const char job_json[] =
	"{\"ID\":\"shop\",\"Name\":\"shop\",\"Type\":\"service\",\"Priority\":60,"
	"\"Datacenters\":[\"dc1\",\"dc2\"],\"Meta\":{\"team\":\"web\",\"tier\":\"1\"},"
	"\"Constraints\":[{\"LTarget\":\"${attr.kernel.name}\",\"RTarget\":\"linux\",\"Operand\":\"=\"}],"
	"\"Update\":{\"MaxParallel\":2,\"MinHealthyTime\":10000000000,\"HealthyDeadline\":300000000000,"
	"\"ProgressDeadline\":600000000000,\"AutoRevert\":true,\"Canary\":1},"
	"\"TaskGroups\":["
	"{\"Name\":\"web\",\"Count\":6,"
	"\"Networks\":[{\"Mode\":\"bridge\",\"DynamicPorts\":[{\"Label\":\"http\",\"To\":8080},{\"Label\":\"admin\",\"To\":9000}]}],"
	"\"Services\":[{\"Name\":\"shop-web\",\"PortLabel\":\"http\",\"Provider\":\"nomad\",\"Tags\":[\"web\",\"v2\"],"
	"\"Checks\":[{\"Name\":\"alive\",\"Type\":\"http\",\"Path\":\"/health\",\"Interval\":10000000000,\"Timeout\":2000000000}]}],"
	"\"Affinities\":[{\"LTarget\":\"${node.datacenter}\",\"RTarget\":\"dc1\",\"Operand\":\"=\",\"Weight\":50}],"
	"\"Spreads\":[{\"Attribute\":\"${meta.rack}\",\"Weight\":50,\"SpreadTarget\":[{\"Value\":\"r1\",\"Percent\":50},{\"Value\":\"r2\",\"Percent\":50}]}],"
	"\"Tasks\":["
	"{\"Name\":\"app\",\"Driver\":\"docker\",\"Config\":{\"image\":\"shop/web:2.4.1\",\"ports\":[\"http\",\"admin\"],"
	"\"args\":[\"--workers\",\"4\",\"--log-json\"]},\"Env\":{\"DB_HOST\":\"db.service\",\"MODE\":\"prod\",\"PORT\":\"${NOMAD_PORT_http}\"},"
	"\"Resources\":{\"CPU\":500,\"MemoryMB\":512,\"MemoryMaxMB\":1024},"
	"\"Templates\":[{\"EmbeddedTmpl\":\"{{ key \\\"shop/config\\\" }}\",\"DestPath\":\"local/app.conf\",\"ChangeMode\":\"signal\",\"ChangeSignal\":\"SIGHUP\"}],"
	"\"Artifacts\":[{\"GetterSource\":\"https://example.invalid/assets.tgz\",\"RelativeDest\":\"local/assets\"}]},"
	"{\"Name\":\"proxy\",\"Driver\":\"docker\",\"Lifecycle\":{\"Hook\":\"prestart\",\"Sidecar\":true},"
	"\"Config\":{\"image\":\"envoy:1.30\",\"args\":[\"-c\",\"/local/envoy.yaml\"]},\"Resources\":{\"CPU\":200,\"MemoryMB\":128}}]},"
	"{\"Name\":\"cache\",\"Count\":3,"
	"\"Networks\":[{\"DynamicPorts\":[{\"Label\":\"db\",\"To\":6379}]}],"
	"\"EphemeralDisk\":{\"SizeMB\":1000,\"Sticky\":true,\"Migrate\":true},"
	"\"Tasks\":["
	"{\"Name\":\"redis\",\"Driver\":\"docker\",\"Config\":{\"image\":\"redis:7\",\"ports\":[\"db\"]},"
	"\"Resources\":{\"CPU\":300,\"MemoryMB\":1024}},"
	"{\"Name\":\"exporter\",\"Driver\":\"exec\",\"Config\":{\"command\":\"/usr/bin/redis_exporter\",\"args\":[\"-redis.addr\",\"${NOMAD_ADDR_db}\"]},"
	"\"Lifecycle\":{\"Hook\":\"poststart\",\"Sidecar\":true},\"Resources\":{\"CPU\":50,\"MemoryMB\":64}}]},"
	"{\"Name\":\"worker\",\"Count\":4,"
	"\"RestartPolicy\":{\"Attempts\":5,\"Interval\":600000000000,\"Delay\":15000000000,\"Mode\":\"delay\"},"
	"\"Tasks\":["
	"{\"Name\":\"consume\",\"Driver\":\"exec\",\"Config\":{\"command\":\"/opt/shop/worker\",\"args\":[\"--queue\",\"orders\"]},"
	"\"Env\":{\"QUEUE\":\"orders\"},\"Resources\":{\"CPU\":1000,\"MemoryMB\":2048},\"KillTimeout\":30000000000},"
	"{\"Name\":\"migrate\",\"Driver\":\"exec\",\"Lifecycle\":{\"Hook\":\"prestart\"},"
	"\"Config\":{\"command\":\"/opt/shop/migrate\"},\"Resources\":{\"CPU\":100,\"MemoryMB\":128}}]}]}";

struct ctx {
	char *json;
	size_t len;
	nomad_job *job;
};

static void json_roundtrip(void *arg)
{
	struct ctx *c = arg;
	nomad_job *job;
	char *out;
	size_t len;
	BENCH_CHECK(nomad_job_from_json(&job, c->json, c->len, NULL, NULL) == NOMAD_OK);
	BENCH_CHECK(nomad_job_to_json(job, 0, &out, &len, NULL) == NOMAD_OK);
	nomad_free(out);
	nomad_job_free(job);
}

static void pb_roundtrip(void *arg)
{
	struct ctx *c = arg;
	nomad_job *job;
	uint8_t *bytes;
	size_t len;
	BENCH_CHECK(nomad_job_pack(c->job, &bytes, &len) == NOMAD_OK);
	BENCH_CHECK(nomad_job_unpack(&job, bytes, len, NULL) == NOMAD_OK);
	nomad_free(bytes);
	nomad_job_free(job);
}

int main(void)
{
	struct ctx c;
	uint8_t *bytes;
	size_t pb_len;
	nomad_error err;

	BENCH_CHECK(nomad_job_from_json(&c.job, job_json, strlen(job_json), NULL,
					&err) == NOMAD_OK);
	BENCH_CHECK(nomad_job_canonicalize(c.job, &err) == NOMAD_OK);
	BENCH_CHECK(nomad_job_validate(c.job, NULL, &err) == NOMAD_OK);
	BENCH_CHECK(nomad_job_to_json(c.job, 0, &c.json, &c.len, NULL) == NOMAD_OK);
	BENCH_CHECK(nomad_job_pack(c.job, &bytes, &pb_len) == NOMAD_OK);
	fprintf(stderr, "bench structs: job of 3 groups, 6 tasks: %zu bytes JSON, "
			"%zu bytes protobuf\n", c.len, pb_len);
	nomad_free(bytes);

	bench_report_rate("structs.job_json_roundtrip_per_s", json_roundtrip, &c, 0.5);
	bench_report_rate("structs.job_pb_roundtrip_per_s", pb_roundtrip, &c, 0.5);

	nomad_free(c.json);
	nomad_job_free(c.job);
	return 0;
}
