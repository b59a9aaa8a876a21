/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's ssh command lines (ssh_cmd.c): the options every ssh of tessmgrd
 * takes, the caller's before "--" and the host; which libvirt URIs are reached
 * through ssh and with what user, host and port; a spawned program gets the
 * descriptors it is given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mgr.h"
#include "ssh_cmd.h"

/* The command line as one string, its arguments joined by spaces. */
static void joined(char *const *argv, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (; *argv; argv++)
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? " " : "", *argv);
}

static void test_command_line(void **state)
{
	struct mgr_tessd_addr a = { .ssh = true, .user = "tess", .host = "h1", .port = 2222 };
	struct mgr_ssh_cmd c;
	char line[2048];

	(void)state;
	memset(&mgr_conf, 0, sizeof(mgr_conf));
	snprintf(mgr_conf.ssh.command, sizeof(mgr_conf.ssh.command), "ssh");
	mgr_conf.ssh.connect_timeout_sec = 7;
	mgr_conf.ssh.alive_interval_sec = 4;
	mgr_ssh_cmd_init(&c, &a);
	mgr_ssh_cmd_arg(&c, "-W");
	mgr_ssh_cmd_arg(&c, "127.0.0.1:5900");
	joined(mgr_ssh_cmd_argv(&c), line, sizeof(line));
	assert_string_equal(line, "ssh -T -o BatchMode=yes -o StrictHostKeyChecking=yes "
				  "-o ServerAliveInterval=4 -o ServerAliveCountMax=3 "
				  "-o ConnectTimeout=7 -p 2222 -l tess -W 127.0.0.1:5900 -- h1");
	/* The key and the known hosts, when set, are the only ones. */
	snprintf(mgr_conf.ssh.identity_file, sizeof(mgr_conf.ssh.identity_file), "/k/id");
	snprintf(mgr_conf.ssh.known_hosts, sizeof(mgr_conf.ssh.known_hosts), "/k/known");
	a = (struct mgr_tessd_addr){ .ssh = true, .host = "-oops" };
	mgr_ssh_cmd_init(&c, &a);
	joined(mgr_ssh_cmd_argv(&c), line, sizeof(line));
	assert_string_equal(line, "ssh -T -o BatchMode=yes -o StrictHostKeyChecking=yes "
				  "-o ServerAliveInterval=4 -o ServerAliveCountMax=3 "
				  "-o ConnectTimeout=7 -o IdentityFile=/k/id -o IdentitiesOnly=yes "
				  "-o UserKnownHostsFile=/k/known -- -oops");
}

static void test_libvirt_uris(void **state)
{
	struct mgr_tessd_addr a;

	(void)state;
	assert_true(
		mgr_ssh_of_libvirt_uri("qemu+ssh://root@h1:2222/system?keyfile=/k&no_tty=1", &a));
	assert_string_equal(a.user, "root");
	assert_string_equal(a.host, "h1");
	assert_int_equal(a.port, 2222);
	assert_true(mgr_ssh_of_libvirt_uri("qemu+ssh://h2.example.com/system", &a));
	assert_string_equal(a.user, "");
	assert_string_equal(a.host, "h2.example.com");
	assert_int_equal(a.port, 0);
	assert_true(mgr_ssh_of_libvirt_uri("qemu+ssh://[fd00::1]:22/system", &a));
	assert_string_equal(a.host, "fd00::1");
	/* Not through ssh, or an authority ssh would not take as it is (an option, a space). */
	static const char *const no[] = {
		"qemu:///system",
		"qemu+unix:///system?socket=/s",
		"qemu+tcp://h1/system",
		"qemu+tls://h1/system",
		"qemu+libssh2://h1/system",
		"test:///default",
		"qemu+ssh:///system",
		"qemu+ssh://-oProxyCommand=x/system",
		"qemu+ssh://h 1/system",
		"qemu+ssh://u;x@h1/system",
		"qemu+ssh://h1:99999/system",
	};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (mgr_ssh_of_libvirt_uri(no[i], &a))
			fail_msg("'%s' was taken", no[i]);
}

/* The program gets the descriptors given: here cat, reading and writing one socket. */
static void test_spawn_descriptors(void **state)
{
	char *const argv[] = { "cat", NULL };
	char buf[16] = { 0 };
	int sp[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	pid = mgr_ssh_spawn(argv, sp[1], sp[1], -1);
	assert_true(pid > 0);
	close(sp[1]);
	assert_int_equal(write(sp[0], "ping", 4), 4);
	shutdown(sp[0], SHUT_WR);
	assert_int_equal(read(sp[0], buf, sizeof(buf)), 4);
	assert_string_equal(buf, "ping");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sp[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_libvirt_uris),
		cmocka_unit_test(test_spawn_descriptors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
