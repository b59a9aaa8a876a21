/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tenants' networks on the tessds that serve them: each PE router's VRF,
 * enterprise interface, the tenant's port group (carried by the PE's trunks
 * toward the hosts) with the desktops' gateway on it (an IRB interface),
 * routes, DHCP, NAT and firewall rule set, and each host's port group of
 * the tenant's VLAN. A change goes to every tessd concerned, all or
 * nothing: a PE's part is one config.batch (one commit in that tessd), and
 * when a later tessd refuses or is down, the earlier ones are given their
 * undo. Reconciling compares every tessd with the store (and the hosts'
 * desktop ports) and repairs what differs; the health ticker does so by
 * itself for a tessd that restarted or came back.
 */
#ifndef TESS_MGR_NETWORK_H
#define TESS_MGR_NETWORK_H

#include <stdbool.h>

#include <jansson.h>

#include "mgr.h"

/* Whether port is one of router r's trunks toward the hosts. */
bool mgr_net_is_trunk(const struct mgr_router_spec *r, const char *port);
/*
 * Asks r's tessd (without mgr.lock) whether each of r's trunk ports is a
 * vswitch trunk of all groups there: 0, or -errno with e (409 at
 * /trunk_ports/N, 503 when it does not answer).
 */
int mgr_net_router_probe(const struct mgr_router_spec *r, struct mgr_err *e);
/* Checks a tenant's network against the routers and the tenant (paths under /network). */
bool mgr_net_check_locked(const struct mgr_tenant_spec *t, struct mgr_err *e);
/*
 * Checks host h (old: what it was, or NULL) against the tenants' networks: no PE of a
 * tenant whose VLAN h reaches may be h's tessd (409 at /tessd or /vlans/N).
 */
bool mgr_net_host_check_locked(const struct mgr_host_spec *h, const struct mgr_host *old,
			       struct mgr_err *e);
/*
 * Tenant and router changes and the repairs are serialized by this lock,
 * taken before mgr.lock (never while holding it): the tessds are programmed
 * without mgr.lock, and no other change of the network comes in between.
 */
void mgr_net_serialize(bool on);
/*
 * The change from old to new (either NULL: a tenant added or deleted) on
 * every tessd concerned, built under mgr.lock (NULL with e: out of memory);
 * run without it: on failure nothing stays applied and e says which tessd
 * refused and why (503 for one that does not answer). Undo takes back a
 * plan that ran (its store write failed).
 */
void *mgr_net_plan_locked(const struct mgr_tenant_spec *old, const struct mgr_tenant_spec *new,
			  struct mgr_err *e);
int mgr_net_plan_run(void *plan, struct mgr_err *e);
void mgr_net_plan_undo(void *plan);
void mgr_net_plan_free(void *plan);
/* Whether a router serves some tenant (its name, or NULL). */
const char *mgr_net_router_user_locked(const char *router);
/*
 * Every router's and host's tessd against the store: {"routers": [...],
 * "hosts": [...]} with what is missing or differs, repaired if repair (then
 * under mgr_net_serialize). Takes mgr.lock only to copy what the store wants
 * and to drop what went meanwhile: the tessds are asked without it.
 */
json_t *mgr_net_reconcile(bool repair);

/*
 * A desktop of tenant_id with MAC mac now has its port on host_id (a move, or a move rolled
 * back): every PE serving the tenant, and that host's tessd, forget the MAC in the tenant's
 * group, so that frames for it are flooded until it speaks from where it is now, instead of
 * going where it was until FDB ageing. Without mgr.lock; never fails: a tessd that refuses or
 * does not answer is logged, counted (GET /v1/stats) and tried again at each tick.
 */
void mgr_net_desktop_moved(uint32_t tenant_id, uint32_t host_id, const char *mac);
/* Forgets that failed and wait for the next tick. */
uint32_t mgr_net_forgets_pending(void);

/*
 * An address for a new desktop of t (under mgr.lock): the lowest of its DHCP pool that none
 * of its desktops has; 0 when t's network has no DHCP, or with e (409) when none is free.
 */
uint32_t mgr_net_new_address_locked(const struct mgr_tenant *t, struct mgr_err *e);
/*
 * Whether a PE serving desktop_id's tenant leases its address to another client (a desktop
 * made before addresses were given, which the pool gave it to): then the desktop takes the
 * lowest address that no desktop has and no PE leases, stored. From then on the address is
 * in the reservations (none before: a reservation would take the address from such a
 * client). Without mgr.lock: 0 with *address the desktop's address, or -errno with err (none
 * is free).
 */
int mgr_net_address_unleased(uint32_t desktop_id, uint32_t *address, char *err, size_t len);
/*
 * Every PE serving tenant_id made to reserve its desktops' addresses as the store has them
 * (its DHCP server's reservations, one config.batch each; a tenant without DHCP: none).
 * Without mgr.lock; waits for a network change under way: 0, or -errno with err saying
 * which PE failed and why (each PE is told, whichever failed).
 */
int mgr_net_reserve(uint32_t tenant_id, char *err, size_t len);
/* The same, never failing: one that fails is logged and tried again at each tick. */
void mgr_net_reserve_or_retry(uint32_t tenant_id);
/* Tenants whose reservations wait for that retry. */
uint32_t mgr_net_reservations_pending(void);

struct mgr_port_req;
/*
 * mgr_vswitch_add_port for a desktop's port, once the group of its VLAN there has the
 * tenant's rule set between desktops that the store has (made with the group if none).
 * Without mgr.lock; waits for a network change under way.
 */
int mgr_net_add_port(const struct mgr_port_req *r, char *err, size_t len);

int mgr_net_start(void);
void mgr_net_stop(void);

#endif
