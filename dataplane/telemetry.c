/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands (/tessd/...): the control API's status and stats,
 * for dpdk-telemetry.py and other telemetry clients.
 *
 * Telemetry callbacks run on DPDK's telemetry threads, while ports, snapshots
 * and modules' tables belong to the control thread. So a callback does not
 * read them: it asks the control thread (an eventfd in its loop), which builds
 * the same JSON as the API's status and stats and hands it over. The control
 * thread holds the lock only to hand the answer over; a callback waits at most
 * TEL_WAIT_MS (a stopping tessd answers nothing).
 */
#include "telemetry.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_telemetry.h>

#include "log.h"
#include "stats.h"
#include "tessd.h"

#define TEL_WAIT_MS 2000

static pthread_mutex_t tel_one = PTHREAD_MUTEX_INITIALIZER; /* one request at a time */
static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tel_cond = PTHREAD_COND_INITIALIZER;
static int tel_fd = -1;
static struct evloop *tel_loop;
static struct ev_handle *tel_h;
static bool tel_asked;
static json_t *tel_answer; /* {"status": ..., "stats": ...}, owned by the asker once set */
static json_t *(*tel_status)(void);
static bool tel_registered;

/* A telemetry name holds only letters, digits, '_' and '/'. */
static void tel_name(char *out, size_t len, const char *prefix, const char *key)
{
	int w = snprintf(out, len, "%s%s%s", prefix, *prefix ? "/" : "", key);
	/* snprintf says what it would have written: a long name is cut, its NUL kept. */
	size_t n = w < 0 ? 0 : (size_t)w < len ? (size_t)w : len - 1;

	for (size_t i = 0; i < n; i++)
		if (!(out[i] == '_' || out[i] == '/' || (out[i] >= '0' && out[i] <= '9') ||
		      (out[i] >= 'a' && out[i] <= 'z') || (out[i] >= 'A' && out[i] <= 'Z')))
			out[i] = '_';
}

/*
 * A JSON value into the dict d, nested keys joined by '/': a telemetry dict
 * holds no dict. Elements of an array are keyed by their "name" if they have
 * one, else by index. If there are more than a dict holds
 * (RTE_TEL_MAX_DICT_ENTRIES: a port lists every drop reason), zeros are left out.
 */
static void tel_flatten(struct rte_tel_data *d, const char *prefix, const json_t *v, bool skip_zero)
{
	char name[RTE_TEL_MAX_STRING_LEN], num[32];
	const char *key;
	json_t *e;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach ((json_t *)v, key, e) {
			tel_name(name, sizeof(name), prefix, key);
			tel_flatten(d, name, e, skip_zero);
		}
		break;
	case JSON_ARRAY:
		json_array_foreach (v, i, e) {
			const char *n = json_string_value(json_object_get(e, "name"));
			snprintf(num, sizeof(num), "%zu", i);
			tel_name(name, sizeof(name), prefix, n ? n : num);
			tel_flatten(d, name, e, skip_zero);
		}
		break;
	case JSON_INTEGER:
		if (json_integer_value(v) == 0 && skip_zero)
			break;
		if (json_integer_value(v) >= 0)
			rte_tel_data_add_dict_u64(d, prefix, (uint64_t)json_integer_value(v));
		else
			rte_tel_data_add_dict_int(d, prefix, (int)json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.6g", json_real_value(v));
		rte_tel_data_add_dict_string(d, prefix, num);
		break;
	case JSON_STRING:
		rte_tel_data_add_dict_string(d, prefix, json_string_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		rte_tel_data_add_dict_int(d, prefix, json_is_true(v));
		break;
	default:
		break;
	}
}

static unsigned tel_leaves(const json_t *v)
{
	const char *key;
	unsigned n = 0;
	json_t *e;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach ((json_t *)v, key, e)
			n += tel_leaves(e);
	} else if (json_is_array(v)) {
		json_array_foreach (v, i, e)
			n += tel_leaves(e);
	} else {
		n = 1;
	}
	return n;
}

static void tel_dict(struct rte_tel_data *d, const json_t *v)
{
	rte_tel_data_start_dict(d);
	tel_flatten(d, "", v, tel_leaves(v) > RTE_TEL_MAX_DICT_ENTRIES);
}

/* Asks the control thread; NULL if it does not answer in time. */
static json_t *tel_ask(void)
{
	struct timespec until;
	json_t *a = NULL;
	uint64_t one = 1;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TEL_WAIT_MS / 1000;
	pthread_mutex_lock(&tel_one);
	pthread_mutex_lock(&tel_lock);
	if (tel_fd >= 0) {
		tel_asked = true;
		if (write(tel_fd, &one, sizeof(one)) != sizeof(one))
			tel_asked = false;
		while (tel_asked && tel_answer == NULL &&
		       pthread_cond_timedwait(&tel_cond, &tel_lock, &until) == 0)
			;
		a = tel_answer;
		tel_answer = NULL;
		tel_asked = false;
	}
	pthread_mutex_unlock(&tel_lock);
	pthread_mutex_unlock(&tel_one);
	return a;
}

/* The control thread's side: builds the answer when asked. */
static void on_ask(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	uint64_t n;
	json_t *a;

	(void)h;
	(void)events;
	(void)arg;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	a = json_pack("{s:o, s:o}", "status", tel_status ? tel_status() : json_object(), "stats",
		      dp_stats_json(&tessd.cfg, NULL));
	pthread_mutex_lock(&tel_lock);
	if (tel_asked && tel_answer == NULL) {
		tel_answer = a;
		a = NULL;
		pthread_cond_broadcast(&tel_cond);
	}
	pthread_mutex_unlock(&tel_lock);
	json_decref(a); /* the asker gave up waiting */
}

/* /tessd/status: the API's status. */
static int cmd_status(const char *cmd, const char *params, struct rte_tel_data *d)
{
	json_t *a = tel_ask();

	(void)cmd;
	(void)params;
	if (a == NULL)
		return -EAGAIN;
	tel_dict(d, json_object_get(a, "status"));
	json_decref(a);
	return 0;
}

/*
 * /tessd/stats,KEY: one key of the API's stats (ports, workers, stages, drops,
 * and what modules add), flattened; without KEY, the keys.
 */
static int stats_key(const char *params, struct rte_tel_data *d, const char *key)
{
	json_t *a = tel_ask(), *v;
	const char *k;

	if (a == NULL)
		return -EAGAIN;
	v = key && *key ? json_object_get(json_object_get(a, "stats"), key) : NULL;
	if (key == NULL || *key == '\0') {
		rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
		json_object_foreach (json_object_get(a, "stats"), k, v)
			rte_tel_data_add_array_string(d, k);
	} else if (v == NULL) {
		json_decref(a);
		return -EINVAL;
	} else if (json_is_array(v) && params && *params) {
		/* /tessd/ports,NAME: one element by its name. */
		json_t *e, *one = NULL;
		size_t i;
		json_array_foreach (v, i, e) {
			if (json_is_string(json_object_get(e, "name")) &&
			    strcmp(json_string_value(json_object_get(e, "name")), params) == 0)
				one = e;
		}
		if (one == NULL) {
			json_decref(a);
			return -EINVAL;
		}
		tel_dict(d, one);
	} else if (json_is_array(v)) {
		/* Without a name: the names (each element's full counters by name). */
		json_t *e;
		size_t i;
		rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
		json_array_foreach (v, i, e) {
			const char *n = json_string_value(json_object_get(e, "name"));
			char num[24];
			snprintf(num, sizeof(num), "%zu", i);
			rte_tel_data_add_array_string(d, n ? n : num);
		}
	} else {
		tel_dict(d, v);
	}
	json_decref(a);
	return 0;
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return stats_key(NULL, d, params);
}

static int cmd_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return stats_key(params, d, "ports");
}

static int cmd_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	return stats_key(NULL, d, "drops");
}

int dp_telemetry_start(struct evloop *loop, json_t *(*status)(void))
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	tel_h = ev_add(loop, fd, EPOLLIN, on_ask, NULL);
	if (tel_h == NULL) {
		int e = errno;
		close(fd);
		return -e;
	}
	pthread_mutex_lock(&tel_lock);
	tel_fd = fd;
	tel_status = status;
	tel_loop = loop;
	pthread_mutex_unlock(&tel_lock);
	/* DPDK keeps commands until exit and has no unregister: register once. */
	if (!tel_registered) {
		tel_registered = true;
		rte_telemetry_register_cmd("/tessd/status", cmd_status,
					   "tessd's status, as the control API's status");
		rte_telemetry_register_cmd(
			"/tessd/stats", cmd_stats,
			"tessd's counters: the stats API's keys; parameter: a key, its counters");
		rte_telemetry_register_cmd(
			"/tessd/ports", cmd_ports,
			"tessd's port names; parameter: a port name, its counters and drops");
		rte_telemetry_register_cmd("/tessd/drops", cmd_drops,
					   "tessd's drops by module and reason");
	}
	return 0;
}

void dp_telemetry_stop(void)
{
	pthread_mutex_lock(&tel_lock);
	if (tel_h)
		ev_del(tel_loop, tel_h);
	tel_h = NULL;
	if (tel_fd >= 0)
		close(tel_fd);
	tel_fd = -1;
	pthread_cond_broadcast(&tel_cond);
	pthread_mutex_unlock(&tel_lock);
}
