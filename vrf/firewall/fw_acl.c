/* SPDX-License-Identifier: BSD-3-Clause */
/* Firewall rules as rte_acl rules and contexts (fw_acl.h). Control thread. */
#include "fw_acl.h"

#include <stddef.h>
#include <string.h>

#include <rte_errno.h>

/* The key's layout for rte_acl: offsets and the 4-byte input groups. */
static const struct rte_acl_field_def fw_defs[FW_F_MAX] = {
	{ .type = RTE_ACL_FIELD_TYPE_BITMASK,
	  .size = sizeof(uint8_t),
	  .field_index = FW_F_PROTO,
	  .input_index = 0,
	  .offset = offsetof(struct fw_key, proto) },
	{ .type = RTE_ACL_FIELD_TYPE_MASK,
	  .size = sizeof(uint32_t),
	  .field_index = FW_F_SRC,
	  .input_index = 1,
	  .offset = offsetof(struct fw_key, src) },
	{ .type = RTE_ACL_FIELD_TYPE_MASK,
	  .size = sizeof(uint32_t),
	  .field_index = FW_F_DST,
	  .input_index = 2,
	  .offset = offsetof(struct fw_key, dst) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE,
	  .size = sizeof(uint16_t),
	  .field_index = FW_F_SPORT,
	  .input_index = 3,
	  .offset = offsetof(struct fw_key, sport) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE,
	  .size = sizeof(uint16_t),
	  .field_index = FW_F_DPORT,
	  .input_index = 3,
	  .offset = offsetof(struct fw_key, dport) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE,
	  .size = sizeof(uint16_t),
	  .field_index = FW_F_IFACE,
	  .input_index = 4,
	  .offset = offsetof(struct fw_key, iface) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE,
	  .size = sizeof(uint16_t),
	  .field_index = FW_F_VLAN,
	  .input_index = 4,
	  .offset = offsetof(struct fw_key, vlan) },
};

void fw_rule_to_acl(const struct tessd_fw_match *m, uint16_t iface, uint32_t index, uint32_t n,
		    struct fw_acl_rule *out)
{
	memset(out, 0, sizeof(*out));
	out->data.category_mask = 1;
	out->data.priority = (int32_t)(n - index); /* the first rule, the highest */
	out->data.userdata = index + 1;
	/* BITMASK: value and mask; any protocol is mask 0. */
	out->field[FW_F_PROTO].value.u8 = m->proto[0];
	out->field[FW_F_PROTO].mask_range.u8 = m->proto[0] == m->proto[1] ? 0xff : 0;
	/* MASK: value and prefix length. */
	out->field[FW_F_SRC].value.u32 = m->src;
	out->field[FW_F_SRC].mask_range.u32 = m->src_len;
	out->field[FW_F_DST].value.u32 = m->dst;
	out->field[FW_F_DST].mask_range.u32 = m->dst_len;
	/* RANGE: low and high. */
	out->field[FW_F_SPORT].value.u16 = m->sport[0];
	out->field[FW_F_SPORT].mask_range.u16 = m->sport[1];
	out->field[FW_F_DPORT].value.u16 = m->dport[0];
	out->field[FW_F_DPORT].mask_range.u16 = m->dport[1];
	out->field[FW_F_IFACE].value.u16 = iface;
	out->field[FW_F_IFACE].mask_range.u16 = iface ? iface : UINT16_MAX;
	out->field[FW_F_VLAN].value.u16 = m->vlan[0];
	out->field[FW_F_VLAN].mask_range.u16 = m->vlan[1];
}

struct rte_acl_ctx *fw_acl_build(const char *name, const struct fw_acl_rule *rules, uint32_t n,
				 int socket)
{
	struct rte_acl_param p = {
		.name = name,
		.socket_id = socket,
		.rule_size = RTE_ACL_RULE_SZ(FW_F_MAX),
		.max_rule_num = n ? n : 1,
	};
	struct rte_acl_config cfg = { .num_categories = 1, .num_fields = FW_F_MAX };
	struct rte_acl_ctx *ctx = rte_acl_create(&p);
	int rc;

	if (ctx == NULL)
		return NULL;
	memcpy(cfg.defs, fw_defs, sizeof(fw_defs));
	rc = rte_acl_add_rules(ctx, (const struct rte_acl_rule *)rules, n);
	if (rc == 0)
		rc = rte_acl_build(ctx, &cfg);
	if (rc != 0) {
		rte_acl_free(ctx);
		rte_errno = -rc;
		return NULL;
	}
	return ctx;
}
