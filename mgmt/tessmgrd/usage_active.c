/* SPDX-License-Identifier: BSD-3-Clause */
/* GET /v1/usage's running domains, listed once for many calls (usage_active.h). */
#include "usage_active.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "mgr.h"
#include "virt.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t listed_cond = PTHREAD_COND_INITIALIZER;
static bool busy;          /* a call is listing: the others wait for it */
static json_t *kept;       /* the last listing's answer */
static json_t *kept_hosts; /* [[id, up], ...] of the hosts it listed */
static time_t kept_wall;   /* when */
static struct timespec kept_at;
static uint64_t gen;      /* bumped by mgr_usage_active_stale */
static uint64_t kept_gen; /* gen when the kept listing started */

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void add(json_t *a, const char *key, json_int_t n)
{
	json_object_set_new(a, key, json_integer(json_integer_value(json_object_get(a, key)) + n));
}

/*
 * The running domains of hosts (each [id, up]) per tenant label; *whole false when a host
 * that is up could not be listed (its domains missing: not to be kept for others).
 */
static json_t *list_hosts(json_t *hosts, bool *whole)
{
	json_t *active = json_object(), *h, *d;
	size_t k, i;

	MGR_FAULT("usage.list", NULL, 0); /* a test's slow listing ("pause"); "fail": as none */
	json_array_foreach (hosts, k, h) {
		char err[256];
		json_t *doms = mgr_virt_list((uint32_t)json_integer_value(json_array_get(h, 0)),
					     err, sizeof(err));
		if (doms == NULL && json_is_true(json_array_get(h, 1)))
			*whole = false;
		json_array_foreach (doms, i, d) {
			const char *label = json_string_value(json_object_get(d, "vlan_name"));
			const char *state = json_string_value(json_object_get(d, "state"));
			json_t *a;
			if (label == NULL || state == NULL || strcmp(state, "running") != 0)
				continue;
			a = json_object_get(active, label);
			if (a == NULL)
				json_object_set_new(active, label,
						    a = json_pack("{s:i, s:i, s:I}", "domains", 0,
								  "vcpus", 0, "memory_mb",
								  (json_int_t)0));
			add(a, "domains", 1);
			add(a, "vcpus", json_integer_value(json_object_get(d, "vcpus")));
			add(a, "memory_mb", json_integer_value(json_object_get(d, "memory_mb")));
		}
		json_decref(doms);
	}
	return active;
}

json_t *mgr_usage_active(time_t *listed)
{
	json_t *hosts = json_array(), *r;
	bool whole = true;

	pthread_mutex_lock(&mgr.lock);
	for (uint32_t k = 0; k < mgr.n_hosts; k++)
		json_array_append_new(
			hosts, json_pack("[I, b]", (json_int_t)mgr.hosts[k]->id, mgr.hosts[k]->up));
	pthread_mutex_unlock(&mgr.lock);

	if (mgr_conf.usage.active_cache_sec == 0) {
		/* Nothing kept: each call lists, as many at once as come. */
		*listed = time(NULL);
		r = list_hosts(hosts, &whole);
		json_decref(hosts);
		mgr_count(usage_active_listings, 1);
		return r;
	}
	pthread_mutex_lock(&lock);
	/*
	 * A listing that started once this call came (no job has ended since) is as good as
	 * one of its own: waiters share it, and a job ending meanwhile makes a caller list at
	 * most once more, not once per waiter.
	 */
	uint64_t mine = gen;
	while (busy)
		pthread_cond_wait(&listed_cond, &lock);
	if (kept && kept_gen >= mine && json_equal(kept_hosts, hosts) &&
	    since(&kept_at) < (double)mgr_conf.usage.active_cache_sec) {
		r = json_incref(kept);
		*listed = kept_wall;
		pthread_mutex_unlock(&lock);
		json_decref(hosts);
		mgr_count(usage_active_shared, 1);
		return r;
	}
	busy = true;
	uint64_t g = gen;
	pthread_mutex_unlock(&lock);

	*listed = time(NULL);
	r = list_hosts(hosts, &whole);
	mgr_count(usage_active_listings, 1);

	pthread_mutex_lock(&lock);
	json_decref(kept);
	json_decref(kept_hosts);
	kept = kept_hosts = NULL;
	if (whole) { /* a host that failed is listed again by the next call */
		kept = json_incref(r);
		kept_hosts = json_incref(hosts);
		kept_wall = *listed;
		clock_gettime(CLOCK_MONOTONIC, &kept_at);
		kept_gen = g;
	}
	busy = false;
	pthread_cond_broadcast(&listed_cond);
	pthread_mutex_unlock(&lock);
	json_decref(hosts);
	return r;
}

void mgr_usage_active_stale(void)
{
	pthread_mutex_lock(&lock);
	gen++;
	pthread_mutex_unlock(&lock);
}

void mgr_usage_active_clear(void)
{
	pthread_mutex_lock(&lock);
	json_decref(kept);
	json_decref(kept_hosts);
	kept = kept_hosts = NULL;
	pthread_mutex_unlock(&lock);
}
