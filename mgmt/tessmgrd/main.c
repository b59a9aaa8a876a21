/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd: start-up, signals (TERM/INT stop, HUP reloads the tokens), systemd's
 * readiness and watchdog, clean shutdown.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "console.h"
#include "events.h"
#include "fault.h"
#include "health.h"
#include "host_tessd.h"
#include "network.h"
#include "image.h"
#include "images.h"
#include "jobs.h"
#include "listen.h"
#include "mgr.h"
#include "rates.h"
#include "resmgr.h"
#include "usage_active.h"
#include "usage_hist.h"
#include "sd_notify.h"
#include "store.h"
#include "session.h"
#include "tessd_events.h"
#include "tls.h"
#include "tunnel.h"
#include "tlog.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tessmgrd -c FILE [--check] | --fault-points | --schema | --version\n"
		"  -c, --config FILE  config (JSON); see README\n"
		"      --check        validate the config and the token file, and exit\n"
		"      --fault-points list the fault points (TESS_FAULT; test builds), and exit\n"
		"      --schema       print the config's and the API objects' schemas (JSON; make "
		"docs), and "
		"exit\n"
		"  -V, --version      print tessmgrd's version and exit\n"
		"  -h, --help         this help\n");
}

/* The schemas of the config and of what the API takes, for README's reference
 * (tests/docs/gen-reference.py). */
static int print_schema(void)
{
	json_t *o = json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "config",
		cfg_schema_json(&mgr_cfg_schema), "site", cfg_schema_json(&mgr_site_schema), "host",
		cfg_schema_json(&mgr_host_schema), "tenant", cfg_schema_json(&mgr_tenant_schema),
		"model", cfg_schema_json(&mgr_model_schema), "quota",
		cfg_schema_json(&mgr_quota_schema), "router", cfg_schema_json(&mgr_router_schema),
		"task", cfg_schema_json(&mgr_task_schema), "network",
		cfg_schema_json(&mgr_network_schema), "rates", cfg_schema_json(&mgr_rates_schema));
	int rc = o && json_dumpf(o, stdout, JSON_INDENT(1)) == 0 ? 0 : 1;

	json_decref(o);
	printf("\n");
	return rc;
}

/* Writes the port being served to <state_dir>/port (port 0 in the config: any free one). */
static void write_port(uint16_t port)
{
	char path[PATH_MAX + 8];
	FILE *f;

	snprintf(path, sizeof(path), "%s/port", mgr_conf.state_dir);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%u\n", port);
		fclose(f);
	}
}

/*
 * Sends WATCHDOG=1 when the state lock can be taken within a quarter of the period: a
 * thread stuck holding it stalls every request, and then the pings stop too.
 */
static void watchdog_check(void)
{
	uint64_t q = sdn_watchdog_usec() / 4;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(q / 1000000u);
	ts.tv_nsec += (long)(q % 1000000u) * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_mutex_timedlock(&mgr.lock, &ts) != 0)
		return;
	pthread_mutex_unlock(&mgr.lock);
	sdn_watchdog_tick();
}

/* Waits for a signal; with a watchdog, wakes at a quarter of its period to ping. */
static int wait_signal(const sigset_t *sigs)
{
	uint64_t q = sdn_watchdog_usec() / 4;
	struct timespec ts = { .tv_sec = (time_t)(q / 1000000u),
			       .tv_nsec = (long)(q % 1000000u) * 1000 };

	for (;;) {
		int sig = q ? sigtimedwait(sigs, NULL, &ts) : sigwaitinfo(sigs, NULL);
		if (sig > 0)
			return sig; /* at once: a stop must not wait for the state lock */
		if (q)
			watchdog_check();
	}
}

/*
 * SIGHUP: the certificate and key files again (a renewed certificate at the
 * same paths), for the handshakes from now on; a bad pair leaves the old one.
 */
static void reload_tls(void)
{
	struct mgr_tls t;
	char err[1024];
	int rc = mgr_tls_load(&mgr_conf.http, &t, err, sizeof(err));

	if (rc == 0) {
		rc = mgr_tls_install(&t, err, sizeof(err));
		mgr_tls_free(&t);
	}
	tlog(rc < 0 ? LOG_ERR : LOG_NOTICE, NULL, "SIGHUP: TLS certificate %s%s",
	     rc < 0 ? "kept: "
	     : rc   ? "unchanged"
		    : "reloaded",
	     rc < 0 ? err : "");
}

/*
 * A descriptor for each HTTP connection, host (libvirt), tunnel and subscribed tessd (the
 * events relay): the soft limit (1024 by default) raised to the hard one.
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			tlog(LOG_WARNING, NULL, "open files limit not raised: %s", strerror(errno));
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "fault-points", no_argument, NULL, 'f' },
		{ "schema", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *config = NULL;
	bool check = false;
	char err[1024] = "";
	uint16_t port = 0;
	struct mgr_tls tls = { 0 };
	bool https_on;
	struct mgr_listen where;
	sigset_t sigs;
	int opt, sig, rc;

	if (tlog_init("tessmgrd") < 0)
		return 1;
	while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'f':
			if (mgr_fault_list())
				return 0;
			fprintf(stderr, "tessmgrd: no fault points in this build "
					"(meson -Dfault_points=true)\n");
			return 1;
		case 's':
			return print_schema();
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tessmgrd %s\n", TESS_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (config == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (mgr_load_json(config, &mgr_cfg_schema, &mgr_conf) < 0)
		return 1;
	tlog_configure((enum tlog_output)mgr_conf.log.output, mgr_conf.log.level);
	mgr_sessions_init(&(struct mgr_session_limits){
		mgr_conf.http.session_idle_sec, mgr_conf.http.session_max_sec,
		mgr_conf.http.max_sessions, mgr_conf.http.sessions_per_principal });
	if (api_load_tokens(mgr_conf.tokens) < 0 || mgr_console_init() < 0)
		return 1;
	if (mgr_tls_enabled(&mgr_conf.http) &&
	    mgr_tls_load(&mgr_conf.http, &tls, err, sizeof(err)) < 0) {
		tlog(LOG_ERR, NULL, "%s: %s", config, err);
		api_free_tokens();
		return 1;
	}
	if (check) {
		printf("config %s and tokens %s are valid%s\n", config, mgr_conf.tokens,
		       tls.cert ? ", and its TLS certificate and key" : "");
		mgr_tls_free(&tls);
		api_free_tokens();
		return 0;
	}
	raise_nofile();
	https_on = tls.cert != NULL;
	if (https_on) {
		rc = mgr_tls_install(&tls, err, sizeof(err));
		mgr_tls_free(&tls);
		if (rc < 0) {
			tlog(LOG_ERR, NULL, "%s: %s", config, err);
			api_free_tokens();
			return 1;
		}
	}
	if (mkdir(mgr_conf.state_dir, 0750) < 0 && errno != EEXIST) {
		tlog(LOG_ERR, NULL, "cannot create %s: %s", mgr_conf.state_dir, strerror(errno));
		mgr_tls_uninstall();
		return 1;
	}
	/* Threads inherit the mask: the main thread alone takes the signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	sdn_init("tessmgrd"); /* and unset: qemu-img and ssh must not notify in our name */
	mgr_image_set_tool(mgr_conf.qemu_img);
	mgr_image_set_timeout(mgr_conf.qemu_img_timeout_sec);

	rc = mgr_init(err, sizeof(err));
	if (rc < 0) {
		tlog(LOG_ERR, NULL, "%s", err);
		mgr_fini();
		mgr_tls_uninstall();
		return 1;
	}
	mgr_jobs_recover();
	struct http_tls https = { mgr_tls_retrieve_fn(), tls.priorities, mgr_tls_conn };
	static const char *origins[MGR_MAX_ORIGINS + 1];
	for (uint32_t i = 0; i < mgr_conf.http.n_origins; i++)
		origins[i] = mgr_conf.http.origins[i];
	struct http_limits lim = {
		.max_body = mgr_conf.max_body,
		.max_connections = mgr_conf.http.max_connections,
		.per_ip_connections = mgr_conf.http.per_ip_connections,
		.timeout_sec = mgr_conf.http.timeout_sec,
		.max_json_depth = mgr_conf.http.max_json_depth,
		.origins = origins,
	};
	mgr_images_sweep();
	if (mgr_tunnel_start() < 0 || mgr_jobs_start() < 0 || mgr_resmgr_start() < 0 ||
	    mgr_usage_hist_start() < 0 || mgr_health_start() < 0 || mgr_net_start() < 0 ||
	    mgr_host_tessd_start() < 0 || mgr_tessd_events_start() < 0 ||
	    http_start(mgr_conf.listen, mgr_conf.port, &lim, https_on ? &https : NULL, api_precheck,
		       api_handle, &port, err, sizeof(err)) < 0) {
		tlog(LOG_ERR, NULL, "%s", err[0] ? err : "cannot start its threads");
		mgr_tessd_events_stop();
		mgr_host_tessd_stop();
		mgr_net_stop();
		mgr_health_stop();
		mgr_usage_hist_stop();
		mgr_resmgr_stop();
		mgr_jobs_stop();
		mgr_tunnel_stop();
		mgr_fini();
		mgr_tls_uninstall();
		return 1;
	}
	write_port(port);
	mgr_listen_parse(mgr_conf.listen, &where, err, sizeof(err)); /* valid: the schema's check */
	mgr_listen_format(&where, port, err, sizeof(err));
	tlog(LOG_NOTICE, NULL, "ready: %s://%s/v1/ (%u hosts, %u tenants, %u desktops)",
	     https_on ? "https" : "http", err, mgr.n_hosts, mgr.n_tenants, mgr.n_desktops);
	/* The listener answers and the config, store and tokens are loaded. */
	sdn_send("READY=1");
	sdn_watchdog_tick();
	for (;;) {
		sig = wait_signal(&sigs);
		if (sig == SIGHUP) {
			sdn_reloading();
			bool ok = api_load_tokens(mgr_conf.tokens) == 0;
			tlog(ok ? LOG_NOTICE : LOG_ERR, NULL, "SIGHUP: tokens %s",
			     ok ? "reloaded" : "kept (bad file)");
			if (https_on)
				reload_tls();
			sdn_send("READY=1");
			continue;
		}
		break;
	}
	sdn_send("STOPPING=1");
	tlog(LOG_NOTICE, NULL, "%s: stopping", strsignal(sig));
	/* First: a connect waiting for its move (up to connect_wait_sec) would hold http_stop. */
	mgr_jobs_shutdown();
	mgr_events_stop();      /* streams end: their threads would hold http_stop */
	mgr_console_stop_all(); /* and consoles: MHD cannot stop with upgraded connections */
	http_stop();
	mgr_usage_active_clear(); /* no call is left to use it */
	mgr_tls_uninstall();
	api_audit_flush(true);   /* the unauthenticated requests counted since the last summary */
	mgr_tessd_events_stop(); /* before the tunnels: its subscriptions hold them */
	mgr_host_tessd_stop();
	mgr_net_stop();
	bool checks_ended = mgr_health_stop();
	mgr_usage_hist_stop();
	mgr_resmgr_stop();
	mgr_jobs_stop();
	mgr_tunnel_stop(); /* after the jobs: they reach remote tessds through it */
	if (!checks_ended) {
		/*
		 * A check hung in libvirt (virConnectOpen) may yet return and use the state and
		 * the config: free nothing, run no library destructors (exit's), but close the
		 * store (mgr_fini's part that must not be lost), under mgr.lock kept to the end
		 * so that the check cannot reach the state or the store meanwhile.
		 */
		pthread_mutex_lock(&mgr.lock);
		mgr_store_close();
		tlog(LOG_NOTICE, NULL, "stopped (without the hung host checks)");
		fflush(NULL);
		_exit(0);
	}
	mgr_fini();
	api_free_tokens();
	mgr_sessions_fini();
	cfg_free(&mgr_cfg_schema, &mgr_conf);
	tlog(LOG_NOTICE, NULL, "stopped");
	return 0;
}
