/* SPDX-License-Identifier: BSD-3-Clause */
/* tessd: start-up, the control thread's loop, and clean shutdown. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eal.h>
#include <rte_pdump.h>
#include <rte_version.h>

#include "apply.h"
#include "cfg_file.h"
#include "ctl_server.h"
#include "eal.h"
#include "evloop.h"
#include "kick.h"
#include "log.h"
#include "metrics_http.h"
#include "module.h"
#include "port.h"
#include "rcu.h"
#include "sd_notify.h"
#include "snapshot.h"
#include "stage.h"
#include "stats.h"
#include "telemetry.h"
#include "tessd.h"
#include "vhost.h"
#include "worker.h"

#define TICK_MS    10  /* learning latency of the vswitch */
#define SLOW_TICKS 100 /* link state, stalled clients: once a second */

static void usage(FILE *f)
{
	fprintf(f, "usage: tessd -c FILE [--check] | --schema | --version\n"
		   "  -c, --config FILE  startup config (JSON); see README for the reference\n"
		   "      --check        validate the config and exit\n"
		   "      --schema       print the config's and the API methods' schemas (JSON; "
		   "the man pages are made from it)\n"
		   "  -V, --version      print tessd's and DPDK's versions and exit\n"
		   "  -h, --help         this help\n");
}

static int load_config(const char *path)
{
	struct cfg_errs errs;
	json_t *doc;
	int rc;

	cfg_errs_init(&errs);
	doc = cfg_file_load(path, &errs);
	rc = doc ? tessd_cfg_decode(doc, &tessd.cfg, &errs, dp_cfg_validate) : -EINVAL;
	json_decref(doc);
	if (rc < 0) {
		char prefix[PATH_MAX + 32];
		snprintf(prefix, sizeof(prefix), "tessd: config %s: ", path);
		cfg_errs_print(&errs, prefix, stderr);
	}
	return rc;
}

static void on_signal(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	(void)h;
	(void)events;
	(void)arg;
	if (read(fd, &si, sizeof(si)) == sizeof(si)) {
		DP_LOG(NOTICE, "%s received: shutting down", strsignal((int)si.ssi_signo));
		sdn_send("STOPPING=1");
		tessd.stop = true;
	}
}

static void on_tick(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	static unsigned ticks;
	uint64_t n;

	(void)h;
	(void)events;
	(void)arg;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	dp_rcu_reclaim();
	/* The poll drains too: a kick whose write failed (flag stuck) recovers here. */
	dp_kick_clear(&dp_control_kick);
	tess_modules_poll(&tessd.cfg, rte_rdtsc());
	dp_vhost_tick();
	/* Here, not on a timer of its own: the pings stop when this loop hangs. */
	sdn_watchdog_tick();
	if (++ticks % SLOW_TICKS == 0) {
		dp_ports_poll_link();
		ctl_server_tick();
		dp_metrics_http_tick();
	}
}

/*
 * A worker kicked (kick.h): the modules drain what workers handed over, a
 * bounded amount each (a module kicks again if more is left). Level-
 * triggered epoll returns the timerfd with the eventfd when both are ready,
 * so a flood of kicks never holds the tick's work back.
 */
static void on_kick(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	(void)h;
	(void)fd;
	(void)events;
	(void)arg;
	dp_kick_take(&dp_control_kick);
	tess_modules_kick();
}

/* Watches fd; on failure closes it. Returns fd or -errno. */
static int watch(struct evloop *l, int fd, ev_cb cb)
{
	int e;

	if (fd < 0)
		return -errno;
	if (ev_add(l, fd, EPOLLIN, cb, NULL) != NULL)
		return fd;
	e = errno;
	close(fd);
	return -e;
}

static int add_timer(struct evloop *l)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = TICK_MS * 1000000L },
		.it_value = { .tv_nsec = TICK_MS * 1000000L },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return watch(l, fd, on_tick);
}

/* The eventfd exists since before the workers started (their early kicks wait in it). */
static int add_kick(struct evloop *l)
{
	return ev_add(l, dp_control_kick.fd, EPOLLIN, on_kick, NULL) ? 0 : -errno;
}

static int add_signals(struct evloop *l, const sigset_t *set)
{
	return watch(l, signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC), on_signal);
}

/* What the "schema" method answers, without EAL: the build makes the man pages from it. */
static int schema_print(void)
{
	json_t *s;

	if (core_api_register() < 0 || port_api_register() < 0 || tess_modules_register_api() < 0 ||
	    (s = core_schema_json()) == NULL) {
		fprintf(stderr, "tessd: internal error: an API schema is inconsistent\n");
		return 1;
	}
	json_dumpf(s, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(s);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "check", no_argument, NULL, 'k' },
		{ "schema", no_argument, NULL, 'S' },       { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },      { 0 },
	};
	const char *config = NULL;
	bool check_only = false, print_schema = false;
	char err[1024] = "";
	struct ctl_error cerr = { 0 };
	sigset_t sigs;
	int opt, rc, sfd = -1, tfd = -1;
	bool pdump = false;

	while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 'S':
			print_schema = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tessd %s\n%s\n", TESS_VERSION, rte_version());
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tessd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (tess_modules_sort() < 0 || dp_stages_link() < 0) {
		fprintf(stderr,
			"tessd: internal error: the built-in modules do not fit together\n");
		return 1;
	}
	if (print_schema)
		return schema_print();
	if (config) {
		if (realpath(config, tessd.config_path) == NULL)
			snprintf(tessd.config_path, sizeof(tessd.config_path), "%s", config);
		if (load_config(config) < 0)
			return 1;
	} else {
		/* No file: every default, no ports (an idle tessd answering its API). */
		json_t *empty = json_object();
		rc = tessd_cfg_decode(empty, &tessd.cfg, NULL, dp_cfg_validate);
		json_decref(empty);
		if (rc < 0)
			return 1;
	}
	if (dp_eal_check(&tessd.cfg, &tessd.eal, err, sizeof(err)) < 0 ||
	    ctl_server_check(&tessd.cfg.control, err, sizeof(err)) < 0) {
		fprintf(stderr, "tessd: config %s: %s\n", config ? config : "(defaults)", err);
		return 1;
	}
	if (check_only) {
		printf("config %s is valid%s%s\n", config ? config : "(defaults)",
		       tessd.eal.hugepages ? "" : "; tessd would run with --no-huge: ",
		       tessd.eal.hugepages ? "" : tessd.eal.why_no_huge);
		tessd_cfg_free(&tessd.cfg);
		return 0;
	}
	sdn_init("tessd");
	if (dp_log_init() < 0) {
		tessd_cfg_free(&tessd.cfg);
		return 1;
	}
	if (ctl_server_prepare(&tessd.cfg.control, err, sizeof(err)) < 0) {
		fprintf(stderr, "tessd: %s\n", err);
		return 1;
	}

	/* Workers inherit this mask from EAL: only the control thread takes signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (dp_eal_init(&tessd.cfg, argv[0], &tessd.eal, err, sizeof(err)) < 0) {
		fprintf(stderr, "tessd: %s\n", err);
		ctl_server_close();
		return 1;
	}
	tessd.started = ev_mono_sec();
	/*
	 * dpdk-dumpcap and dpdk-pdump capture ethdev ports from a secondary
	 * process: that needs shared memory (no --in-memory, no --no-huge).
	 * rte_pdump_init() succeeds without it, so say it here.
	 */
	pdump = rte_pdump_init() == 0;
	if (!pdump)
		DP_LOG(NOTICE, "packet capture (dpdk-dumpcap) unavailable: %s",
		       rte_strerror(rte_errno));
	else if (!tessd.eal.hugepages || tessd.cfg.eal.in_memory)
		DP_LOG(NOTICE, "packet capture (dpdk-dumpcap) unavailable: tessd runs with %s",
		       tessd.eal.hugepages ? "--in-memory" : "--no-huge");
	rc = dp_rcu_init(tessd.cfg.eal.n_workers);
	if (rc == 0)
		rc = dp_kick_init(&dp_control_kick);
	if (rc == 0)
		rc = tess_modules_init(&tessd.cfg);
	if (rc == 0)
		rc = dp_workers_init();
	if (rc < 0)
		snprintf(err, sizeof(err), "cannot set up the modules and workers: %s",
			 strerror(-rc));
	if (rc == 0)
		rc = dp_ports_init(&tessd.cfg, err, sizeof(err));
	if (rc == 0 && (rc = dp_snapshot_init()) < 0)
		snprintf(err, sizeof(err), "cannot allocate the dataplane snapshot");
	if (rc == 0 && (rc = dp_apply_running(&cerr)) < 0)
		snprintf(err, sizeof(err), "cannot build the first snapshot: %s", cerr.message);
	if (rc == 0) {
		dp_stats_reset();
		rc = dp_workers_start();
		if (rc < 0)
			snprintf(err, sizeof(err), "cannot launch the workers");
	}
	if (rc == 0) {
		tessd.loop = ev_create();
		if (tessd.loop)
			tess_modules_start(tessd.loop);
		if (tessd.loop == NULL || (sfd = add_signals(tessd.loop, &sigs)) < 0 ||
		    (tfd = add_timer(tessd.loop)) < 0 || add_kick(tessd.loop) < 0 ||
		    dp_vhost_start(tessd.loop) < 0 ||
		    dp_telemetry_start(tessd.loop, core_status_json) < 0) {
			rc = -ENOMEM;
			snprintf(err, sizeof(err), "cannot set up the control loop: %s",
				 strerror(errno));
		}
	}
	if (rc == 0 && (core_api_register() < 0 || port_api_register() < 0 ||
			log_api_register() < 0 || tess_modules_register_api() < 0)) {
		rc = -EINVAL;
		snprintf(err, sizeof(err), "internal error: an API schema is inconsistent");
	}
	if (rc == 0)
		rc = dp_metrics_http_open(&tessd.cfg.control, tessd.loop, err, sizeof(err));
	if (rc == 0)
		rc = ctl_server_open(&tessd.cfg.control, tessd.loop, err, sizeof(err));
	if (rc == 0) {
		DP_LOG(NOTICE, "tessd ready: %u worker%s, %u port%s, control socket %s",
		       dp_worker_count(), dp_worker_count() == 1 ? "" : "s", dp_port_count(),
		       dp_port_count() == 1 ? "" : "s", tessd.cfg.control.socket);
		/* The socket listens and the startup config is applied: clients may come. */
		sdn_send("READY=1");
		sdn_watchdog_tick();
		while (!tessd.stop) {
			int n = ev_run_once(tessd.loop, -1);
			if (n < 0) {
				DP_LOG(ERR, "control loop: %s", strerror(-n));
				break;
			}
		}
	} else {
		fprintf(stderr, "tessd: %s\n", err);
	}

	/* Stop serving, then stop workers (they flush their TX), then close ports. */
	dp_telemetry_stop();
	dp_metrics_http_close();
	ctl_server_close();
	dp_workers_stop();
	dp_ports_fini();
	/* After the workers: a capture's callbacks on the ports still use pdump's stats. */
	if (pdump)
		rte_pdump_uninit();
	dp_vhost_fini();
	if (dp_rcu_qsv)
		dp_rcu_fini(); /* runs what was deferred: old snapshots, FDB entries */
	if (dp_snap)
		dp_snapshot_fini();
	dp_workers_free();
	tess_modules_fini(); /* after the snapshots and workers: they hold the modules' tables */
	dp_mempools_free();
	ev_destroy(tessd.loop);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	dp_kick_fini(&dp_control_kick);
	tessd_cfg_free(&tessd.cfg);
	if (rc == 0)
		DP_LOG(NOTICE, "tessd stopped");
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
