/* SPDX-License-Identifier: BSD-3-Clause */
/* Ports over the API: list, and add, change or remove at runtime. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>

#include "apply.h"
#include "ctl_server.h"
#include "log.h"
#include "port.h"
#include "module.h"
#include "rcu.h"
#include "tessd.h"

static json_t *port_json(const struct dp_port *p)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	json_t *o;

	rte_ether_format_addr(mac, sizeof(mac), &p->mac);
	o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:i, s:{s:b, s:I, s:s}, s:i, s:i, s:i, s:i, "
		      "s:b, s:b, s:b, s:b, s:i}",
		      "name", p->cfg.name, "port_id", p->id, "devargs", p->cfg.devargs, "driver",
		      p->driver, "mac", mac, "mtu", (int)p->cfg.mtu, "link", "up",
		      p->link.link_status == RTE_ETH_LINK_UP, "speed_mbps",
		      (json_int_t)p->link.link_speed, "duplex",
		      p->link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half",
		      "rx_queues", p->n_rxq, "tx_queues", p->n_txq, "rx_desc", p->rx_desc,
		      "tx_desc", p->tx_desc, "rss", p->rss, "scatter", p->scatter, "tx_multiseg",
		      p->tx_multiseg, "promiscuous", p->cfg.promiscuous, "numa", p->socket);
	if (o == NULL)
		return NULL;
	TESS_MODULE_FOREACH(m)
	{
		if (m->port_json)
			m->port_json(p, &tessd.cfg, o);
	}
	return o;
}

static int port_list(const void *params, json_t **result, struct ctl_error *err)
{
	json_t *a = json_array();

	(void)params;
	(void)err;
	dp_ports_poll_link();
	DP_PORT_FOREACH (p) {
		json_array_append_new(a, port_json(p));
	}
	*result = a;
	return 0;
}

static int port_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_port_cfg *pc = params;
	char from[32], text[1024];
	struct tessd_cfg cand;
	struct tessd_port_cfg *ports;
	struct dp_port *p;
	int rc;

	if (tessd_cfg_port(&tessd.cfg, pc->name)) {
		ctl_error_set(err, EEXIST, "/params/name", "port '%s' exists", pc->name);
		return -EEXIST;
	}
	if ((rc = dp_candidate(&cand, err)) < 0)
		return rc;
	ports = realloc(cand.ports, (cand.n_ports + 1) * sizeof(*ports));
	if (ports == NULL) {
		tessd_cfg_free(&cand);
		return -ENOMEM;
	}
	cand.ports = ports;
	/* Deep copy through the schema: the params struct goes away after this call. */
	if (cfg_clone(&tessd_port_schema, &ports[cand.n_ports], pc) < 0) {
		tessd_cfg_free(&cand);
		return -ENOMEM;
	}
	snprintf(from, sizeof(from), "/ports/%u", cand.n_ports);
	cand.n_ports++;
	rc = dp_validate(&cand, from, "/params", err);
	if (rc == 0 && (rc = dp_port_create(pc, "/params", text, sizeof(text))) < 0)
		ctl_error_from_text(err, -rc, text);
	if (rc < 0) {
		tessd_cfg_free(&cand);
		return rc;
	}
	p = dp_port_by_name(pc->name);
	rc = dp_commit(&cand, err);
	if (rc < 0) {
		dp_port_destroy(p);
		return rc;
	}
	DP_LOG(INFO, "port %s added", pc->name);
	*result = port_json(p);
	return 0;
}

/* Fields a running port keeps: changing them means deleting and adding it again. */
static const char *const fixed_fields[] = { "devargs", "mtu",         "rx_queues", "rx_desc",
					    "tx_desc", "promiscuous", NULL };

static int port_set(const void *params, json_t **result, struct ctl_error *err)
{
	const json_t *req = params;
	const json_t *name = json_object_get(req, "name");
	const struct tessd_port_cfg *cur;
	struct tessd_cfg cand;
	struct cfg_errs errs;
	json_t *merged;
	char from[32];
	int idx = -1, rc;

	if (!json_is_string(name)) {
		ctl_error_set(err, EINVAL, "/params/name", "the port to change, by name");
		return -EINVAL;
	}
	cur = tessd_cfg_port(&tessd.cfg, json_string_value(name));
	if (cur == NULL) {
		ctl_error_set(err, ENOENT, "/params/name", "no port named '%s'",
			      json_string_value(name));
		return -ENOENT;
	}
	idx = (int)(cur - tessd.cfg.ports);
	merged = cfg_encode(&tessd_port_schema, cur);
	for (const char *const *f = fixed_fields; *f; f++) {
		const json_t *v = json_object_get(req, *f);
		if (v && !json_equal(v, json_object_get(merged, *f))) {
			ctl_error_set(err, EINVAL, "",
				      "cannot change %s of a running port: delete "
				      "and add it again",
				      *f);
			snprintf(err->path, sizeof(err->path), "/params/%s", *f);
			json_decref(merged);
			return -EINVAL;
		}
	}
	json_object_update(merged, (json_t *)req);
	if ((rc = dp_candidate(&cand, err)) < 0) {
		json_decref(merged);
		return rc;
	}
	cfg_free(&tessd_port_schema, &cand.ports[idx]);
	cfg_errs_init(&errs);
	rc = cfg_decode(&tessd_port_schema, merged, &cand.ports[idx], "/params", &errs);
	json_decref(merged);
	if (rc < 0) {
		ctl_error_from_cfg(err, &errs);
		tessd_cfg_free(&cand);
		return -err->code;
	}
	snprintf(from, sizeof(from), "/ports/%d", idx);
	rc = dp_validate(&cand, from, "/params", err);
	if (rc == 0)
		rc = dp_commit(&cand, err);
	else
		tessd_cfg_free(&cand);
	if (rc == 0) {
		/* cur went with the old running config: use the name from the request. */
		DP_LOG(INFO, "port %s changed", json_string_value(name));
		*result = port_json(dp_port_by_name(json_string_value(name)));
	}
	return rc;
}

/* What still refers to a port (each module says): it must go first. */
static int port_in_use(const char *name, struct ctl_error *err)
{
	TESS_MODULE_FOREACH(m)
	{
		int rc = m->port_in_use ? m->port_in_use(&tessd.cfg, name, err) : 0;
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int port_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_name_params *pp = params;
	const struct tessd_port_cfg *cur = tessd_cfg_port(&tessd.cfg, pp->name);
	struct dp_port *p = dp_port_by_name(pp->name);
	struct tessd_cfg cand;
	uint32_t idx;
	int rc;

	if (cur == NULL || p == NULL) {
		ctl_error_set(err, ENOENT, "/params/name", "no port named '%s'", pp->name);
		return -ENOENT;
	}
	if ((rc = port_in_use(pp->name, err)) < 0)
		return rc;
	idx = (uint32_t)(cur - tessd.cfg.ports);
	if ((rc = dp_candidate(&cand, err)) < 0)
		return rc;
	cfg_free(&tessd_port_schema, &cand.ports[idx]);
	memmove(&cand.ports[idx], &cand.ports[idx + 1],
		(cand.n_ports - idx - 1) * sizeof(cand.ports[0]));
	cand.n_ports--;
	if ((rc = dp_validate(&cand, NULL, NULL, err)) < 0) {
		tessd_cfg_free(&cand);
		return rc;
	}
	/* Out of the snapshot first; once no worker can hold it, close the device. */
	p->draining = true;
	rc = dp_commit(&cand, err);
	if (rc < 0) {
		p->draining = false;
		return rc;
	}
	dp_rcu_synchronize();
	*result = json_pack("{s:s}", "name", pp->name);
	dp_port_destroy(p);
	return 0;
}

static const struct ctl_method port_methods[] = {
	{ "port.list", NULL, port_list, "ports with driver, MAC, MTU, link, queues, switching" },
	{ "port.add", &tessd_port_schema, port_add, "add a port (as in the config's ports[])" },
	{ "port.set", &tessd_port_schema, port_set,
	  "change a port's switching: mode, groups, anti-spoof, limits", true },
	{ "port.del", &tessd_name_params_schema, port_del, "remove a port (not cross-connected)" },
	{ 0 },
};

int port_api_register(void)
{
	return ctl_register(port_methods);
}
