/* SPDX-License-Identifier: MIT */
/*
 * hv/irq/msi.c: the decode of an MSI address/data pair (Intel SDM Vol. 3A, "Message
 * Address Register Format", "Message Data Register Format") and the drops, counted per
 * VM. vlapic_deliver() is a fake that records what reaches it.
 */
#include "tests/unit/support.h"
#include "hv/irq/msi.h"
#include "hv/irq/vlapic.h"
#include "hv/vm/vm.h"
#include "hv/host/work.h"

static struct vm vm;

struct msg {
	u32 sh, dest;
	bool logical;
	u8 dm, vector;
	bool level;
};
static struct msg msgs[16];
static unsigned nmsgs;

void vlapic_deliver(struct vm *v, struct vcpu *src, u32 shorthand, u32 dest, bool logical, u8 dm,
		    u8 vector, bool level)
{
	assert_ptr_equal(v, &vm);
	assert_null(src);
	assert_true(nmsgs < ARRAY_SIZE(msgs));
	msgs[nmsgs++] = (struct msg){ shorthand, dest, logical, dm, vector, level };
}

/* The vLAPIC's physical-destination lookup over a table of APIC IDs the test sets
 * (vCPU i has apic_ids[i]); every lookup is counted. */
static struct vcpu fake_vcpu[4];
static u32 apic_ids[4];
static unsigned lookups;

struct vcpu *vlapic_phys_target(struct vm *v, u32 dest)
{
	assert_ptr_equal(v, &vm);
	lookups++;
	for (unsigned i = 0; i < ARRAY_SIZE(fake_vcpu); i++)
		if (apic_ids[i] == dest)
			return &fake_vcpu[i];
	return NULL;
}

/* A message to one vCPU: recorded with the vCPU's index as dest. */
void vlapic_deliver_to(struct vcpu *t, u8 dm, u8 vector, bool level)
{
	assert_true(nmsgs < ARRAY_SIZE(msgs));
	msgs[nmsgs++] = (struct msg){ 0x100, (u32)(t - fake_vcpu), false, dm, vector, level };
}

/* hv/host/work.c: items are kept until the test runs them, with the CPU they were
 * queued on. */
struct item {
	struct cpu *c;
	work_fn fn;
	void *arg;
	u64 x, y;
};
static struct item items[8];
static unsigned nitems;

bool work_queue(struct cpu *c, work_fn fn, void *arg, u64 x, u64 y)
{
	assert_true(nitems < ARRAY_SIZE(items));
	items[nitems++] = (struct item){ c, fn, arg, x, y };
	return true;
}

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	nmsgs = 0;
	nitems = 0;
	lookups = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(apic_ids); i++)
		apic_ids[i] = i;
	return 0;
}

static void fixed_physical(void **state)
{
	(void)state;
	struct msi_msg m;
	assert_int_equal(msi_decode(0xfee01000, 0x0041, &m), MSI_OK);
	assert_int_equal(m.dest, 1);
	assert_false(m.logical);
	assert_false(m.rh);
	assert_int_equal(m.dm, DM_FIXED);
	assert_int_equal(m.vector, 0x41);
	assert_false(m.level);
	/* Destination 0xff, the xAPIC broadcast. */
	assert_int_equal(msi_decode(0xfeeff000, 0x0050, &m), MSI_OK);
	assert_int_equal(m.dest, 0xff);
}

static void logical_and_redirection_hint(void **state)
{
	(void)state;
	struct msi_msg m;
	assert_int_equal(msi_decode(0xfee03004, 0x0042, &m), MSI_OK);   /* DM = 1 */
	assert_true(m.logical);
	assert_int_equal(m.dest, 3);
	assert_int_equal(m.dm, DM_FIXED);
	/* RH = 1: lowest priority among the destinations. */
	assert_int_equal(msi_decode(0xfee0300c, 0x0042, &m), MSI_OK);
	assert_true(m.rh);
	assert_int_equal(m.dm, DM_LOWEST);
	assert_int_equal(msi_decode(0xfee03004, 0x0142, &m), MSI_OK);   /* delivery mode 001 */
	assert_int_equal(m.dm, DM_LOWEST);
}

static void delivery_modes_and_trigger(void **state)
{
	(void)state;
	struct msi_msg m;
	assert_int_equal(msi_decode(0xfee00000, 0x0400, &m), MSI_OK);   /* NMI, vector ignored */
	assert_int_equal(m.dm, DM_NMI);
	assert_int_equal(msi_decode(0xfee00000, 0x0500, &m), MSI_OK);   /* INIT */
	assert_int_equal(m.dm, DM_INIT);
	assert_int_equal(msi_decode(0xfee00000, 0x0200, &m), MSI_DROP_DELIVERY);   /* SMI */
	assert_int_equal(msi_decode(0xfee00000, 0x0330, &m), MSI_DROP_DELIVERY);   /* 011 reserved */
	assert_int_equal(msi_decode(0xfee00000, 0x0630, &m), MSI_DROP_DELIVERY);   /* 110 reserved */
	assert_int_equal(msi_decode(0xfee00000, 0x0730, &m), MSI_DROP_DELIVERY);   /* ExtINT */
	/* Level trigger: assert delivers as level, deassert is dropped. */
	assert_int_equal(msi_decode(0xfee00000, 0xc045, &m), MSI_OK);
	assert_true(m.level);
	assert_int_equal(msi_decode(0xfee00000, 0x8045, &m), MSI_DROP_DEASSERT);
	/* Level bit without level trigger: edge. */
	assert_int_equal(msi_decode(0xfee00000, 0x4045, &m), MSI_OK);
	assert_false(m.level);
	/* Vectors 0-15 are illegal for fixed and lowest priority. */
	assert_int_equal(msi_decode(0xfee00000, 0x000f, &m), MSI_DROP_VECTOR);
	assert_int_equal(msi_decode(0xfee00000, 0x0010, &m), MSI_OK);
}

static void bad_addresses(void **state)
{
	(void)state;
	struct msi_msg m;
	assert_int_equal(msi_decode(0xfed00000, 0x41, &m), MSI_DROP_ADDRESS);
	assert_int_equal(msi_decode(0, 0x41, &m), MSI_DROP_ADDRESS);
	assert_int_equal(msi_decode(0x1fee00000ull, 0x41, &m), MSI_DROP_ADDRESS);
	assert_int_equal(msi_decode(0xfef00000, 0x41, &m), MSI_DROP_ADDRESS);
}

static void deliver_and_count(void **state)
{
	(void)state;
	assert_int_equal(msi_deliver(&vm, 0xfee01000, 0x0051), MSI_OK);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].sh, SH_NONE);
	assert_int_equal(msgs[0].dest, 1);
	assert_int_equal(msgs[0].vector, 0x51);
	assert_int_equal(msgs[0].dm, DM_FIXED);
	assert_int_equal(msi_deliver(&vm, 0x12345678, 0x0051), MSI_DROP_ADDRESS);
	assert_int_equal(msi_deliver(&vm, 0xfee00000, 0x0651), MSI_DROP_DELIVERY);
	assert_int_equal(msi_deliver(&vm, 0xfee00000, 0x0001), MSI_DROP_VECTOR);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msi_stats_of(&vm)->delivered, 1);
	assert_int_equal(msi_stats_of(&vm)->dropped[MSI_DROP_ADDRESS], 1);
	assert_int_equal(msi_stats_of(&vm)->dropped[MSI_DROP_DELIVERY], 1);
	assert_int_equal(msi_stats_of(&vm)->dropped[MSI_DROP_VECTOR], 1);
}

/* A cached route is decoded once and sent as decoded. */
static void route_direct(void **state)
{
	(void)state;
	struct msi_route r;
	memset(&r, 0, sizeof(r));
	msi_route_set(&r, 0xfee03000, 0x4061);   /* destination 3, vector 0x61, level bit (edge) */
	assert_int_equal(r.status, MSI_OK);
	assert_int_equal(r.refreshes, 1);
	assert_int_equal(r.msg.dest, 3);
	assert_int_equal(r.msg.vector, 0x61);
	assert_int_equal(msi_route_deliver(&vm, &r), MSI_OK);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].sh, 0x100);   /* to the cached target vCPU 3 */
	assert_int_equal(msgs[0].dest, 3);
	assert_int_equal(msgs[0].vector, 0x61);
	assert_int_equal(msgs[0].dm, DM_FIXED);
	assert_int_equal(vm.msi.delivered, 1);
	assert_int_equal(vm.msi.routed, 1);
	assert_int_equal(nitems, 0);
	/* A pair that is dropped: counted per send, nothing reaches the vLAPIC. */
	msi_route_set(&r, 0xfee00000, 0x0300);   /* reserved delivery mode 011 */
	assert_int_equal(r.status, MSI_DROP_DELIVERY);
	assert_int_equal(msi_route_deliver(&vm, &r), MSI_DROP_DELIVERY);
	assert_int_equal(msi_route_deliver(&vm, &r), MSI_DROP_DELIVERY);
	assert_int_equal(vm.msi.dropped[MSI_DROP_DELIVERY], 2);
	assert_int_equal(nmsgs, 1);
}

/* msi_delivery=deferred: a work item on the CPU of the vCPU the destination names
 * (vCPU 0's for a logical one); running it decodes and delivers. */
static void route_deferred(void **state)
{
	(void)state;
	static struct vcpu v0, v1;
	static struct cpu c0, c1;
	v0.cpu = &c0;
	v1.cpu = &c1;
	vm.vcpus[0] = &v0;
	vm.vcpus[1] = &v1;
	vm.nr_vcpus = 2;
	vm.msi_delivery = MSI_DELIVERY_DEFERRED;
	struct msi_route r;
	memset(&r, 0, sizeof(r));
	msi_route_set(&r, 0xfee01000, 0x0072);
	assert_int_equal(msi_route_deliver(&vm, &r), MSI_OK);
	assert_int_equal(nmsgs, 0);   /* nothing posted from the signalling context */
	assert_int_equal(nitems, 1);
	assert_ptr_equal(items[0].c, &c1);
	assert_int_equal(vm.msi.deferred, 1);
	items[0].fn(items[0].arg, items[0].x, items[0].y);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].dest, 1);
	assert_int_equal(msgs[0].vector, 0x72);
	assert_int_equal(vm.msi.delivered, 1);
	msi_route_set(&r, 0xfee01004, 0x0073);   /* logical destination 1 */
	msi_route_deliver(&vm, &r);
	assert_int_equal(nitems, 2);
	assert_ptr_equal(items[1].c, &c0);
	msi_route_set(&r, 0xfee09000, 0x0074);   /* physical destination 9: no such vCPU */
	msi_route_deliver(&vm, &r);
	assert_ptr_equal(items[2].c, &c0);
}

/* The target vCPU of a fixed physical route is looked up once, and again only after
 * the pair is rewritten or the VM's APIC generation moved (an APIC ID, LDR, DFR or
 * mode changed: vlapic_routing_changed). */
static void route_target_cache(void **state)
{
	(void)state;
	struct msi_route r;
	memset(&r, 0, sizeof(r));
	msi_route_set(&r, 0xfee02000, 0x0041);   /* physical destination 2, fixed, vector 0x41 */
	assert_true(r.cacheable);
	for (int i = 0; i < 5; i++)
		assert_int_equal(msi_route_deliver(&vm, &r), MSI_OK);
	assert_int_equal(lookups, 1);
	assert_int_equal(vm.msi.target_lookups, 1);
	assert_int_equal(nmsgs, 5);
	assert_int_equal(msgs[4].dest, 2);
	/* The guest renumbers: APIC ID 2 now belongs to vCPU 1. Without a generation bump
	 * the cached target stands (the vLAPIC bumps on every such write). */
	apic_ids[2] = 9;
	apic_ids[1] = 2;
	msi_route_deliver(&vm, &r);
	assert_int_equal(msgs[5].dest, 2);
	assert_int_equal(lookups, 1);
	msi_apic_changed(&vm);
	msi_route_deliver(&vm, &r);
	assert_int_equal(lookups, 2);
	assert_int_equal(msgs[6].dest, 1);
	msi_route_deliver(&vm, &r);
	assert_int_equal(lookups, 2);
	assert_int_equal(msgs[7].dest, 1);
	/* No vCPU with the ID: nothing delivered, and that too is cached. */
	apic_ids[1] = 7;
	msi_apic_changed(&vm);
	msi_route_deliver(&vm, &r);
	msi_route_deliver(&vm, &r);
	assert_int_equal(nmsgs, 8);
	assert_int_equal(lookups, 3);
	assert_int_equal(vm.msi.routed, 10);
	/* Rewriting the pair forgets the target. */
	msi_route_set(&r, 0xfee00000, 0x0042);   /* destination 0 */
	msi_route_deliver(&vm, &r);
	assert_int_equal(lookups, 4);
	assert_int_equal(msgs[8].dest, 0);
	assert_int_equal(msgs[8].vector, 0x42);
	/* Logical, lowest priority and broadcast messages are resolved per message by
	 * vlapic_deliver: no cached target. */
	msi_route_set(&r, 0xfee01004, 0x0043);   /* logical */
	assert_false(r.cacheable);
	msi_route_set(&r, 0xfee01000, 0x0143);   /* lowest priority */
	assert_false(r.cacheable);
	msi_route_set(&r, 0xfeeff000, 0x0043);   /* physical 0xff: broadcast */
	assert_false(r.cacheable);
	msi_route_deliver(&vm, &r);
	assert_int_equal(msgs[9].sh, SH_NONE);
	assert_int_equal(msgs[9].dest, 0xff);
	assert_int_equal(lookups, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(fixed_physical, setup),
		cmocka_unit_test_setup(logical_and_redirection_hint, setup),
		cmocka_unit_test_setup(delivery_modes_and_trigger, setup),
		cmocka_unit_test_setup(bad_addresses, setup),
		cmocka_unit_test_setup(deliver_and_count, setup),
		cmocka_unit_test_setup(route_direct, setup),
		cmocka_unit_test_setup(route_deferred, setup),
		cmocka_unit_test_setup(route_target_cache, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
