/* SPDX-License-Identifier: BSD-3-Clause */
/* Ports over the API: list, and add, change or remove at runtime. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_ether.h>

#include "apply.h"
#include "ctl_server.h"
#include "port.h"
#include "module.h"
#include "rcu.h"
#include "tessd.h"
#include "vhost.h"

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
	if (p->kind == DP_PORT_VHOST) {
		struct dp_vhost_stats st;

		dp_vhost_stats(p, &st);
		json_object_set_new(o, "vhost",
				    json_pack("{s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:I}",
					      "path", p->cfg.vhost.path, "client",
					      p->cfg.vhost.client, "connected",
					      dp_vhost_connected(p), "polled", st.active,
					      "connects", (json_int_t)st.connects, "disconnects",
					      (json_int_t)st.disconnects, "parks",
					      (json_int_t)st.parks, "wakes", (json_int_t)st.wakes,
					      "refused", (json_int_t)st.refused));
	}
	TESS_MODULE_FOREACH (m) {
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

/* port.add's and port.set's answer: the port as port.list shows it. */
static json_t *port_answer(const struct cfg_node *schema, const void *elem, void *arg)
{
	const struct tessd_port_cfg *pc = elem;
	const struct dp_port *p = dp_port_by_name(pc->name);

	(void)schema;
	(void)arg;
	return p ? port_json(p) : NULL;
}

/* Probes the new port once the config with it is valid. */
static int port_probe(const struct tessd_cfg *cand, void *arg, struct ctl_error *err)
{
	const struct tessd_port_cfg *pc = arg;
	char text[1024];
	int rc = dp_port_create(pc, "/params", text, sizeof(text));

	(void)cand;
	if (rc < 0)
		ctl_error_from_text(err, -rc, text);
	return rc;
}

static void port_unprobe(void *arg)
{
	const struct tessd_port_cfg *pc = arg;

	dp_port_destroy(dp_port_by_name(pc->name));
}

/* Whether dir (resolved) is allowed dir d, or under it. */
static bool under_dir(const char *dir, const char *d)
{
	char real[PATH_MAX];
	size_t n;

	if (realpath(d, real) == NULL)
		return false;
	n = strlen(real);
	if (n == 1) /* "/": everything */
		return true;
	return strncmp(dir, real, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

/* A path-valued devarg: absolute, no symlink at the end, its directory under an allowed one. */
static int check_devargs_path(const struct tessd_ctl_cfg *ctl, const char *key, const char *val,
			      char *why, size_t len)
{
	char copy[TESS_DEVARGS_LEN], dir[PATH_MAX];
	const char *base;
	struct stat st;

	if (val[0] != '/') {
		snprintf(why, len, "%s=%s must be an absolute path", key, val);
		return -EPERM;
	}
	snprintf(copy, sizeof(copy), "%s", val);
	base = strrchr(val, '/') + 1;
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || base[0] == '\0') {
		snprintf(why, len, "%s=%s must name a file", key, val);
		return -EPERM;
	}
	if (realpath(dirname(copy), dir) == NULL) {
		snprintf(why, len, "%s=%s: its directory: %s", key, val, strerror(errno));
		return -EPERM;
	}
	/* A link would lead the driver out of the directory checked. */
	if (lstat(val, &st) == 0 && S_ISLNK(st.st_mode)) {
		snprintf(why, len, "%s=%s is a symbolic link", key, val);
		return -EPERM;
	}
	for (uint32_t i = 0; i < ctl->n_port_dirs; i++)
		if (under_dir(dir, ctl->port_dirs[i]))
			return 0;
	snprintf(why, len, "%s=%s is not under an allowed directory (control.port_dirs)", key, val);
	return -EPERM;
}

/* Keys whose values drivers open as files (pcap files, vhost-user and memif sockets). */
static bool is_path_key(const char *dev, const char *key, const char *val)
{
	static const char *const keys[] = { "path", "socket", "rx_pcap", "tx_pcap", NULL };

	if (strchr(val, '/'))
		return true; /* whatever the key: a path is confined */
	if (strcmp(key, "iface") == 0 && strncmp(dev, "net_vhost", 9) == 0)
		return true;
	for (const char *const *k = keys; *k; k++)
		if (strcmp(key, *k) == 0)
			return true;
	return false;
}

/*
 * The keys the default drivers take over the API: none that opens a host
 * interface (net_tap's remote=, which mirrors a host NIC). A driver an
 * operator adds to port_drivers is the operator's to trust: its keys are
 * not listed, its paths are still confined.
 */
static const struct {
	const char *driver;
	const char *const keys[12];
} driver_keys[] = {
	{ "net_tap", { "iface", "mac" } },
	{ "net_vhost",
	  { "iface", "queues", "client", "iommu-support", "postcopy-support", "tso",
	    "linear-buffer", "ext-buffer", "legacy-ol-flags" } },
	{ "net_memif",
	  { "id", "role", "bsize", "rsize", "socket", "socket-abstract", "owner-uid", "owner-gid",
	    "mac", "secret", "zero-copy" } },
	{ "net_null", { "size", "copy", "no-rx" } },
};

/* Whether key is one dev's driver takes (or dev is a driver without a list). */
static bool key_allowed(const char *dev, const char *key)
{
	for (size_t d = 0; d < RTE_DIM(driver_keys); d++) {
		if (strncmp(dev, driver_keys[d].driver, strlen(driver_keys[d].driver)) != 0)
			continue;
		for (const char *const *k = driver_keys[d].keys; *k; k++)
			if (strcmp(key, *k) == 0)
				return true;
		return false;
	}
	return true;
}

/*
 * A client of the socket may add ports, not open files or host interfaces of
 * its choosing as root (review 2.1): only allowed drivers, and paths only in
 * allowed directories. The startup file is root's and trusted.
 */
static int check_devargs_policy(const struct tessd_ctl_cfg *ctl, const char *devargs, char *why,
				size_t len)
{
	char dev[TESS_DEVARGS_LEN], tok[TESS_DEVARGS_LEN];
	const char *s;
	bool ok = false;

	tessd_devargs_name(devargs, dev, sizeof(dev));
	/* Plain names only: "bus=vdev/..." and the like are not driver names. */
	if (dev[strspn(dev, CFG_NAME_CHARSET ":")] == '\0')
		for (uint32_t i = 0; i < ctl->n_port_drivers && !ok; i++)
			ok = strncmp(dev, ctl->port_drivers[i], strlen(ctl->port_drivers[i])) == 0;
	if (!ok) {
		snprintf(why, len,
			 "driver %.64s is not allowed over the API (control.port_drivers)", dev);
		return -EPERM;
	}
	for (s = strchr(devargs, ','); s; s = strchr(s + 1, ',')) {
		size_t n = strcspn(s + 1, ",");
		char *eq;
		int rc;

		snprintf(tok, sizeof(tok), "%.*s", (int)n, s + 1);
		eq = strchr(tok, '=');
		if (eq)
			*eq = '\0';
		if (!key_allowed(dev, tok)) {
			snprintf(why, len, "key %.64s of %.64s is not allowed over the API", tok,
				 dev);
			return -EPERM;
		}
		if (eq == NULL)
			continue;
		if (is_path_key(dev, tok, eq + 1) &&
		    (rc = check_devargs_path(ctl, tok, eq + 1, why, len)) < 0)
			return rc;
	}
	return 0;
}

/*
 * A vhost port over the API: allowed where net_vhost is (control.port_drivers), its
 * socket confined to control.port_dirs as net_vhost's iface= is.
 */
static int check_vhost_policy(const struct tessd_ctl_cfg *ctl, const char *path, char *why,
			      size_t len)
{
	bool ok = false;

	for (uint32_t i = 0; i < ctl->n_port_drivers && !ok; i++)
		ok = strncmp("net_vhost", ctl->port_drivers[i], strlen(ctl->port_drivers[i])) == 0;
	if (!ok) {
		snprintf(why, len,
			 "vhost ports are not allowed over the API (net_vhost is not in "
			 "control.port_drivers)");
		return -EPERM;
	}
	return check_devargs_path(ctl, "vhost.path", path, why, len);
}

static int port_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_port_cfg *pc = params;
	const struct dp_edit e = {
		.op = DP_EDIT_ADD,
		.array = "/ports",
		.item = pc,
		.arg = (void *)pc,
		.prepare = port_probe,
		.unprepare = port_unprobe,
		.answer = port_answer,
	};
	char why[CFG_MSG_MAX];
	int rc;

	if (tessd_cfg_port(&tessd.cfg, pc->name)) {
		ctl_error_set(err, EEXIST, "/params/name", "port '%s' exists", pc->name);
		return -EEXIST;
	}
	if (pc->vhost.path[0]) {
		rc = check_vhost_policy(&tessd.cfg.control, pc->vhost.path, why, sizeof(why));
		if (rc < 0) {
			tessd.devargs_refused++;
			ctl_error_set(err, -rc, "/params/vhost/path", "%s", why);
			return rc;
		}
	} else if ((rc = check_devargs_policy(&tessd.cfg.control, pc->devargs, why, sizeof(why))) <
		   0) {
		tessd.devargs_refused++;
		ctl_error_set(err, -rc, "/params/devargs", "%s", why);
		return rc;
	}
	return dp_edit(&e, result, err, "port %s added", pc->name);
}

/* Fields a running port keeps: changing them means deleting and adding it again. */
static const char *const fixed_fields[] = { "devargs", "vhost",   "mtu",         "rx_queues",
					    "rx_desc", "tx_desc", "promiscuous", NULL };

static int port_set(const void *params, json_t **result, struct ctl_error *err)
{
	const json_t *req = params;
	const json_t *name = json_object_get(req, "name");
	const struct tessd_port_cfg *cur;
	struct tessd_port_cfg pc;
	struct dp_edit e = {
		.op = DP_EDIT_SET,
		.array = "/ports",
		.item = &pc,
		.answer = port_answer,
	};
	struct cfg_errs errs;
	json_t *merged;
	int rc;

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
	cfg_errs_init(&errs);
	rc = cfg_decode(&tessd_port_schema, merged, &pc, "/params", &errs);
	json_decref(merged);
	if (rc < 0) {
		ctl_error_from_cfg(err, &errs);
		return -err->code;
	}
	e.index = (uint32_t)(cur - tessd.cfg.ports);
	rc = dp_edit(&e, result, err, "port %s changed", pc.name);
	cfg_free(&tessd_port_schema, &pc);
	return rc;
}

/* What still refers to a port (each module says): it must go first. */
static int port_in_use(const char *name, struct ctl_error *err)
{
	TESS_MODULE_FOREACH (m) {
		int rc = m->port_in_use ? m->port_in_use(&tessd.cfg, name, err) : 0;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Out of the snapshot first; once no worker can hold it, the device is closed. */
static int port_drain(const struct tessd_cfg *cand, void *arg, struct ctl_error *err)
{
	struct dp_port *p = arg;

	(void)cand;
	(void)err;
	p->draining = true;
	return 0;
}

static void port_undrain(void *arg)
{
	struct dp_port *p = arg;

	p->draining = false;
}

static int port_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_name_params *pp = params;
	const struct tessd_port_cfg *cur = tessd_cfg_port(&tessd.cfg, pp->name);
	struct dp_port *p = dp_port_by_name(pp->name);
	int rc;

	if (cur == NULL || p == NULL) {
		ctl_error_set(err, ENOENT, "/params/name", "no port named '%s'", pp->name);
		return -ENOENT;
	}
	if ((rc = port_in_use(pp->name, err)) < 0)
		return rc;
	const struct dp_edit e = {
		.op = DP_EDIT_DEL,
		.array = "/ports",
		.index = (uint32_t)(cur - tessd.cfg.ports),
		.arg = p,
		.prepare = port_drain,
		.unprepare = port_undrain,
		.answer = dp_answer_name,
	};
	if ((rc = dp_edit(&e, result, err, "port %s removed", pp->name)) < 0)
		return rc;
	dp_rcu_synchronize();
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
