/* SPDX-License-Identifier: BSD-3-Clause */
/* The firewall section of tessd's config (fw_config.c): rule sets and their attachments. */
#ifndef TESS_FW_CONFIG_H
#define TESS_FW_CONFIG_H

#include "tessd_base.h"

#define TESS_FW_MAX_RULES 65536 /* rules of one set, at most (the schema's bound) */
#define TESS_FW_RANGE_LEN 12    /* "65535-65535" */
#define TESS_FW_PROTO_LEN 8     /* "any", "tcp", "udp", "icmp", or "0".."255" */

enum tess_fw_action { TESS_FW_ACCEPT, TESS_FW_DROP, TESS_FW_REJECT };
extern const char *const tess_fw_actions[]; /* names of enum tess_fw_action */

struct tessd_fw_rule {
	uint8_t action; /* enum tess_fw_action */
	char proto[TESS_FW_PROTO_LEN];
	struct cfg_prefix4 src, dst;                             /* 0.0.0.0/0 (""): any */
	char sport[TESS_FW_RANGE_LEN], dport[TESS_FW_RANGE_LEN]; /* "N" or "N-M"; "": any */
	int16_t icmp_type, icmp_code;                            /* -1: any */
	char interface[TESS_NAME_LEN];                           /* ingress interface; "": any */
	char vlan[TESS_FW_RANGE_LEN]; /* VLAN of the ingress interface, "N" or "N-M"; "": any */
};

struct tessd_fw_ruleset {
	char name[TESS_NAME_LEN];
	uint8_t default_in, default_out; /* enum tess_fw_action, when no rule matches */
	struct tessd_fw_rule *rules;
	uint32_t n_rules;
};

struct tessd_fw_attach {
	char interface[TESS_NAME_LEN];
	char in[TESS_NAME_LEN], out[TESS_NAME_LEN]; /* rule sets; "": none that way */
};

/* A set on the IPv4 frames a vswitch group receives from its ports (vrf/firewall). */
struct tessd_fw_group {
	char group[TESS_NAME_LEN];
	char set[TESS_NAME_LEN];
};

struct tessd_fw_baseline {
	struct tessd_fw_rule *in, *out;
	uint32_t n_in, n_out;
};

struct tessd_fw_cfg {
	uint32_t max_rules;      /* of one set */
	uint32_t max_vrf_rules;  /* of the sets attached to one VRF's interfaces together */
	uint32_t rule_capacity;  /* of all sets together */
	uint32_t conn_capacity;  /* connections tracked, all VRFs; 0: no tracking */
	uint32_t conn_vrf_limit; /* of them, one VRF's */
	struct tessd_fw_baseline baseline;
	struct tessd_fw_ruleset *rulesets;
	uint32_t n_rulesets;
	struct tessd_fw_attach *attach;
	uint32_t n_attach;
	struct tessd_fw_group *groups;
	uint32_t n_groups;
};

/*
 * A rule's match in ranges, host order: what the firewall classifies on and
 * its baseline check compares. ICMP's type and code are in sport and dport.
 */
struct tessd_fw_match {
	uint8_t proto[2]; /* lo, hi: 0-255 is any */
	uint32_t src, dst;
	uint8_t src_len, dst_len;
	uint16_t sport[2], dport[2], vlan[2];
};
extern const struct cfg_node tessd_fw_schema;
/*
 * Its section of tessd's config: struct tessd_cfg's member, the JSON key, the
 * type and the schema (registered by vrf/firewall/meson.build, see config/tessd_config.h).
 */
#define TESSD_FW_SECTION(OBJ, ARR) OBJ(firewall, "firewall", struct tessd_fw_cfg, tessd_fw_schema)

extern const struct cfg_node tessd_fw_ruleset_schema;
extern const struct cfg_node tessd_fw_group_schema; /* firewall.groups[] */
/* A decoded (schema-checked) rule's match. */
void tessd_fw_match(const struct tessd_fw_rule *r, struct tessd_fw_match *m);
/* The firewall section's rules past the schema's (names, attachments, limits). */
int tessd_fw_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
const struct tessd_fw_ruleset *tessd_cfg_fw_ruleset(const struct tessd_cfg *cfg, const char *name);

#endif
