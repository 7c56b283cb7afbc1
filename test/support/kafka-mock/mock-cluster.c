/*
 * A librdkafka mock cluster that a test can fault from outside: it prints
 * "bootstrap.servers=HOST:PORT,..." on stdout, then reads one command per line
 * on stdin and answers each with "ok" or "error <message>" on stdout:
 *
 *   down <broker>                       disconnect a broker and refuse new connections
 *   up <broker>                         accept connections again
 *   errors <apikey> <count> <err>       the next <count> requests of <apikey> (any broker)
 *                                       fail with Kafka error code <err>
 *   topic <name> <partitions> [<rf>]    create a topic with that many partitions
 *   leader <topic> <partition> <broker> move a partition's leadership
 *   coordinator <group|transaction> <key> <broker>
 *   rtt <broker> <ms>                   delay every response of a broker
 *   quit                                destroy the cluster and exit (also on EOF)
 *
 * Broker ids are 1..N; -1 means every broker where librdkafka allows it. The kcat
 * mock (`kcat -X test.mock.num.brokers=3`) cannot be faulted like this, hence the harness.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static void reply(rd_kafka_resp_err_t err) {
        if (err)
                printf("error %s\n", rd_kafka_err2str(err));
        else
                printf("ok\n");
        fflush(stdout);
}

static void usage_error(const char *what) {
        printf("error usage: %s\n", what);
        fflush(stdout);
}

int main(int argc, char **argv) {
        int brokers = argc > 1 ? atoi(argv[1]) : 3;
        char errstr[512];
        char line[1024];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mcluster;

        if (brokers < 1 || brokers > 16) {
                fprintf(stderr, "mock-cluster: broker count must be 1..16, got %s\n", argv[1]);
                return 2;
        }

        conf = rd_kafka_conf_new();
        /* The handle only hosts the cluster; keep its own logging quiet. */
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "mock-cluster: rd_kafka_new: %s\n", errstr);
                return 1;
        }
        mcluster = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mcluster) {
                fprintf(stderr, "mock-cluster: rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(rk);
                return 1;
        }
        printf("bootstrap.servers=%s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
        fflush(stdout);

        while (fgets(line, sizeof(line), stdin)) {
                char cmd[32] = "", a[256] = "", b[256] = "", c[256] = "";
                int n = sscanf(line, "%31s %255s %255s %255s", cmd, a, b, c);
                if (n <= 0)
                        continue;
                if (!strcmp(cmd, "quit")) {
                        break;
                } else if (!strcmp(cmd, "down") && n == 2) {
                        reply(rd_kafka_mock_broker_set_down(mcluster, atoi(a)));
                } else if (!strcmp(cmd, "up") && n == 2) {
                        reply(rd_kafka_mock_broker_set_up(mcluster, atoi(a)));
                } else if (!strcmp(cmd, "errors") && n == 4) {
                        size_t cnt = (size_t)atoi(b);
                        rd_kafka_resp_err_t *errs;
                        size_t i;
                        if (cnt == 0 || cnt > 10000) {
                                usage_error("errors <apikey> <count 1..10000> <err>");
                                continue;
                        }
                        errs = calloc(cnt, sizeof(*errs));
                        for (i = 0; i < cnt; i++)
                                errs[i] = (rd_kafka_resp_err_t)atoi(c);
                        rd_kafka_mock_push_request_errors_array(mcluster, (int16_t)atoi(a), cnt, errs);
                        free(errs);
                        reply(RD_KAFKA_RESP_ERR_NO_ERROR);
                } else if (!strcmp(cmd, "topic") && (n == 3 || n == 4)) {
                        int rf = n == 4 ? atoi(c) : (brokers < 3 ? brokers : 3);
                        reply(rd_kafka_mock_topic_create(mcluster, a, atoi(b), rf));
                } else if (!strcmp(cmd, "leader") && n == 4) {
                        reply(rd_kafka_mock_partition_set_leader(mcluster, a, atoi(b), atoi(c)));
                } else if (!strcmp(cmd, "coordinator") && n == 4) {
                        reply(rd_kafka_mock_coordinator_set(mcluster, a, b, atoi(c)));
                } else if (!strcmp(cmd, "rtt") && n == 3) {
                        reply(rd_kafka_mock_broker_set_rtt(mcluster, atoi(a), atoi(b)));
                } else {
                        usage_error("down <id> | up <id> | errors <apikey> <count> <err> | topic <name> <partitions> [<rf>] | "
                                    "leader <topic> <partition> <id> | coordinator <type> <key> <id> | rtt <id> <ms> | quit");
                }
        }

        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 0;
}
