/* SPDX-License-Identifier: BSD-3-Clause */
#include "tunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mgr.h"
#include "spec.h"
#include "ssh_cmd.h"
#include "tessd_addr.h"
#include "tlog.h"

enum tstate { T_DOWN, T_STARTING, T_UP };
static const char *const state_names[] = { "down", "starting", "up" };

struct tunnel {
	char key[MGR_TESSD_KEY_LEN]; /* found by: one tunnel however the address is written */
	char addr[MGR_URI_LEN];      /* as first written (its log lines) */
	struct mgr_tessd_addr a;
	char local[MGR_SOCK_PATH_LEN];
	char log[PATH_MAX];
	enum tstate state;
	pid_t pid;
	bool owned;        /* a host or router has the address (not forgotten since) */
	bool wanted;       /* owned and used once: kept up, restarted when it dies */
	bool start_now;    /* a caller waits for it */
	uint32_t users;    /* callers between mgr_tunnel_socket and mgr_tunnel_release */
	uint64_t deadline; /* STARTING: given up at (ms) */
	uint64_t retry_at; /* DOWN: no start before (ms), by the thread or a caller */
	uint32_t backoff;  /* s */
	uint64_t attempts; /* starts that ended (up or not), for waiters */
	uint32_t starts, lost;
	char error[384]; /* why it is down, "" when up */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct tunnel **tunnels;
static uint32_t n_tunnels;
static pthread_t thread;
static bool running, stopping;
static int wake_fd[2] = { -1, -1 };

/* ssh children to end, collected under lock and ended after it (the tunnel thread's). */
struct victim {
	pid_t pid;
	uint32_t grace_ms; /* SIGTERM, then SIGKILL after this */
};
static struct victim *victims;
static uint32_t n_victims, cap_victims;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void wake(void)
{
	char c = 1;

	if (write(wake_fd[1], &c, 1) < 0) {
		/* full: the thread is awake anyway */
	}
}

/* The last non-empty line ssh wrote (its reason), or "". */
static void last_line(const char *log, char *dst, size_t len)
{
	char buf[2048];
	ssize_t n = 0;
	int fd = open(log, O_RDONLY | O_CLOEXEC);

	dst[0] = '\0';
	if (fd < 0)
		return;
	off_t size = lseek(fd, 0, SEEK_END);
	if (size > 0 && lseek(fd, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0,
			      SEEK_SET) >= 0)
		n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	char *start = strrchr(buf, '\n');
	start = start ? start + 1 : buf;
	size_t l = strlen(start) < len - 1 ? strlen(start) : len - 1;
	memcpy(dst, start, l);
	dst[l] = '\0';
}

static bool socket_there(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void set_down(struct tunnel *t, const char *fmt, const char *detail)
{
	char said[256];

	last_line(t->log, said, sizeof(said));
	snprintf(t->error, sizeof(t->error), fmt, detail);
	if (said[0]) {
		size_t l = strlen(t->error);
		snprintf(t->error + l, sizeof(t->error) - l, ": %s%s",
			 strncmp(said, "ssh: ", 5) == 0 ? "" : "ssh: ", said);
	}
	unlink(t->local);
	t->state = T_DOWN;
	t->pid = 0;
	t->attempts++;
	/* The thread restarts a wanted one then; callers meanwhile get this error at once. */
	if (!stopping) {
		t->retry_at = now_ms() + (uint64_t)t->backoff * 1000;
		t->backoff = t->backoff * 2 > mgr_conf.ssh.restart_max_sec
				     ? mgr_conf.ssh.restart_max_sec
				     : t->backoff * 2;
	}
	tlog(LOG_WARNING, NULL, "tessd %s: tunnel down: %s", t->addr, t->error);
	pthread_cond_broadcast(&changed);
}

static void start(struct tunnel *t)
{
	const struct mgr_ssh_cfg *c = &mgr_conf.ssh;
	char fwd[2 * MGR_SOCK_PATH_LEN + 2];
	struct mgr_ssh_cmd cmd;
	int logfd;

	snprintf(fwd, sizeof(fwd), "%s:%s", t->local, t->a.path);
	mgr_ssh_cmd_init(&cmd, &t->a);
	mgr_ssh_cmd_arg(&cmd, "-N");
	mgr_ssh_cmd_arg(&cmd, "-o");
	mgr_ssh_cmd_arg(&cmd, "ExitOnForwardFailure=yes");
	mgr_ssh_cmd_arg(&cmd, "-o");
	mgr_ssh_cmd_arg(&cmd, "StreamLocalBindUnlink=yes");
	mgr_ssh_cmd_arg(&cmd, "-o");
	mgr_ssh_cmd_arg(&cmd, "StreamLocalBindMask=0177");
	mgr_ssh_cmd_arg(&cmd, "-L");
	mgr_ssh_cmd_arg(&cmd, fwd);

	t->start_now = false;
	t->starts++;
	unlink(t->local);
	logfd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (logfd < 0) {
		set_down(t, "cannot write %s", t->log);
		return;
	}
	t->pid = mgr_ssh_spawn(mgr_ssh_cmd_argv(&cmd), -1, logfd, logfd);
	close(logfd);
	if (t->pid < 0) {
		set_down(t, "cannot run %s", c->command);
		return;
	}
	t->state = T_STARTING;
	t->deadline = now_ms() + (uint64_t)c->connect_timeout_sec * 1000 + 2000;
}

static void reap(struct tunnel *t, int status)
{
	char how[64];

	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "status %d", WEXITSTATUS(status));
	else
		snprintf(how, sizeof(how), "signal %d", WTERMSIG(status));
	if (t->state == T_UP)
		t->lost++;
	set_down(t, t->state == T_UP ? "ssh exited (%s)" : "no tunnel: ssh exited (%s)", how);
}

/* pid is to end (no waitpid of it by anyone else: the tunnel has let it go). */
static void doom(pid_t pid, uint32_t grace_ms)
{
	if (n_victims == cap_victims) {
		uint32_t cap = cap_victims ? 2 * cap_victims : 8;
		struct victim *v = realloc(victims, cap * sizeof(*v));
		if (v == NULL) { /* no room: ended now, under the lock (rare) */
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			return;
		}
		victims = v;
		cap_victims = cap;
	}
	victims[n_victims++] = (struct victim){ pid, grace_ms };
}

/*
 * Without the lock (a GET of hosts, under mgr.lock, reads tunnels): SIGTERM to
 * every doomed ssh and its group, SIGKILL to those still there after their
 * grace, and every one reaped.
 */
static void end_victims(void)
{
	uint64_t t0 = now_ms();

	for (uint32_t i = 0; i < n_victims; i++) {
		kill(-victims[i].pid, SIGTERM);
		kill(victims[i].pid, SIGTERM);
	}
	for (uint32_t i = 0; i < n_victims; i++) {
		pid_t pid = victims[i].pid;
		while (waitpid(pid, NULL, WNOHANG) == 0) {
			if (now_ms() >= t0 + victims[i].grace_ms) {
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
					;
				break;
			}
			usleep(20000);
		}
	}
	n_victims = 0;
}

static void turn(void)
{
	uint64_t now = now_ms();

	for (uint32_t i = 0; i < n_tunnels; i++) {
		struct tunnel *t = tunnels[i];
		int status;

		if (!t->owned && t->users == 0 && (t->pid > 0 || t->state != T_DOWN)) {
			/* Kept (a later user starts it again for itself), stopped once unused. */
			if (t->pid > 0)
				doom(t->pid, 500);
			if (t->pid > 0 || t->state != T_DOWN)
				tlog(LOG_NOTICE, NULL, "tessd %s: tunnel stopped (no host has it)",
				     t->addr);
			t->pid = 0;
			t->state = T_DOWN;
			t->attempts++;
			snprintf(t->error, sizeof(t->error), "stopped: no host has this address");
			unlink(t->local);
			pthread_cond_broadcast(&changed);
			continue;
		}
		if (t->pid > 0 && waitpid(t->pid, &status, WNOHANG) == t->pid) {
			reap(t, status);
			continue;
		}
		if (t->state == T_STARTING && socket_there(t->local)) {
			t->state = T_UP;
			t->error[0] = '\0';
			t->backoff = 1;
			t->attempts++;
			tlog(LOG_NOTICE, NULL, "tessd %s: tunnel up (ssh pid %d, %s)", t->addr,
			     (int)t->pid, t->local);
			pthread_cond_broadcast(&changed);
		} else if (t->state == T_STARTING && now >= t->deadline) {
			doom(t->pid, 0);
			set_down(t, "no tunnel after %s (ssh killed)", "ssh.connect_timeout_sec");
		} else if (t->state == T_DOWN && !stopping &&
			   (t->start_now || (t->wanted && t->retry_at && now >= t->retry_at))) {
			start(t);
		}
	}
}

static void *loop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		struct pollfd p = { .fd = wake_fd[0], .events = POLLIN };
		char buf[64];

		turn();
		pthread_mutex_unlock(&lock);
		end_victims();
		if (poll(&p, 1, 100) > 0)
			while (read(wake_fd[0], buf, sizeof(buf)) > 0)
				;
		pthread_mutex_lock(&lock);
	}
	for (uint32_t i = 0; i < n_tunnels; i++) {
		struct tunnel *t = tunnels[i];
		if (t->pid > 0)
			doom(t->pid, 2000);
		t->pid = 0;
		t->state = T_DOWN;
		snprintf(t->error, sizeof(t->error), "tessmgrd is stopping");
		unlink(t->local);
	}
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
	end_victims(); /* all at once: one grace for them all */
	return NULL;
}

int mgr_tunnel_start(void)
{
	char dir[PATH_MAX + 8];

	snprintf(dir, sizeof(dir), "%s/ssh", mgr_conf.state_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (pipe2(wake_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	stopping = false;
	if (pthread_create(&thread, NULL, loop, NULL) != 0) {
		close(wake_fd[0]);
		close(wake_fd[1]);
		return -EAGAIN;
	}
	running = true;
	return 0;
}

void mgr_tunnel_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_mutex_unlock(&lock);
	wake();
	pthread_join(thread, NULL);
	running = false;
	close(wake_fd[0]);
	close(wake_fd[1]);
	for (uint32_t i = 0; i < n_tunnels; i++)
		free(tunnels[i]);
	free(tunnels);
	tunnels = NULL;
	n_tunnels = 0;
	free(victims);
	victims = NULL;
	cap_victims = 0;
}

static struct tunnel *find(const char *addr)
{
	char key[MGR_TESSD_KEY_LEN];

	if (mgr_tessd_addr_key(addr, key) < 0)
		return NULL;
	for (uint32_t i = 0; i < n_tunnels; i++)
		if (strcmp(tunnels[i]->key, key) == 0)
			return tunnels[i];
	return NULL;
}

/* FNV-1a of the address's key: a short, stable name for its local socket. */
static uint64_t hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static struct tunnel *add(const char *addr, const struct mgr_tessd_addr *a, char *err, size_t len)
{
	struct tunnel **arr, *t = calloc(1, sizeof(*t));
	int n;

	if (t == NULL) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	mgr_tessd_addr_spell(a, t->key);
	snprintf(t->addr, sizeof(t->addr), "%s", addr);
	t->a = *a;
	t->owned = true; /* first used by a host's or router's address (or a check of one) */
	t->backoff = 1;
	n = snprintf(t->local, sizeof(t->local), "%s/ssh/%016llx.sock", mgr_conf.state_dir,
		     (unsigned long long)hash(t->key));
	if (snprintf(t->log, sizeof(t->log), "%s/ssh/%016llx.log", mgr_conf.state_dir,
		     (unsigned long long)hash(t->key)) >= (int)sizeof(t->log) ||
	    n >= (int)sizeof(t->local)) {
		snprintf(err, len,
			 "tessd %s: the tunnel's socket under state_dir %s would be longer than "
			 "107 characters (a shorter state_dir)",
			 addr, mgr_conf.state_dir);
		free(t);
		return NULL;
	}
	arr = realloc(tunnels, (n_tunnels + 1) * sizeof(*arr));
	if (arr == NULL) {
		free(t);
		snprintf(err, len, "out of memory");
		return NULL;
	}
	tunnels = arr;
	tunnels[n_tunnels++] = t;
	return t;
}

/* A user is done with t; the last of a forgotten one's lets the thread stop it. */
static void release_locked(struct tunnel *t)
{
	if (t->users > 0 && --t->users == 0 && !t->owned)
		wake();
}

static int tunnel_socket(const char *addr, char *path, size_t plen, char *err, size_t len,
			 bool wait)
{
	struct mgr_tessd_addr a;
	struct tunnel *t;
	struct timespec until;
	uint64_t seen, now;
	int rc = 0;

	if (mgr_tessd_addr_parse(addr, &a, err, len) < 0)
		return -EINVAL;
	if (!a.ssh) {
		snprintf(path, plen, "%s", a.path);
		return 0;
	}
	pthread_mutex_lock(&lock);
	if (!running || stopping) {
		pthread_mutex_unlock(&lock);
		snprintf(err, len, "tessd %s: no ssh tunnels (tessmgrd is %s)", addr,
			 running ? "stopping" : "not running them");
		return -ENOTCONN;
	}
	t = find(addr);
	if (t == NULL && (t = add(addr, &a, err, len)) == NULL) {
		pthread_mutex_unlock(&lock);
		return -ENOMEM;
	}
	/* Counted from here: a forget does not stop it under this caller (nor its wait). */
	t->users++;
	if (t->owned)
		t->wanted = true;
	now = now_ms();
	if (t->state == T_DOWN && now < t->retry_at) {
		/* Waiting before the next start (set_down): no ssh for every caller. */
		snprintf(err, len, "tessd %s: ssh tunnel to %s down: %s (next try in %llu s)", addr,
			 a.host, t->error, (unsigned long long)(t->retry_at - now + 999) / 1000);
		release_locked(t);
		pthread_mutex_unlock(&lock);
		return -EHOSTUNREACH;
	}
	if (t->state != T_UP) {
		/* Forgotten (a no-wait caller's address went a moment ago): not started again. */
		if (!wait && !t->owned) {
			snprintf(err, len, "tessd %s: no host or router has it", addr);
			release_locked(t);
			pthread_mutex_unlock(&lock);
			return -EHOSTUNREACH;
		}
		seen = t->attempts;
		if (t->state == T_DOWN) {
			t->start_now = true;
			wake();
		}
		if (!wait) {
			snprintf(err, len, "tessd %s: ssh tunnel to %s coming up", addr, a.host);
			release_locked(t);
			pthread_mutex_unlock(&lock);
			return -EINPROGRESS;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += mgr_conf.ssh.connect_timeout_sec + 5;
		while (t->state != T_UP && t->attempts == seen && !stopping && rc == 0)
			rc = pthread_cond_timedwait(&changed, &lock, &until);
	}
	if (t->state == T_UP) {
		snprintf(path, plen, "%s", t->local);
		rc = 0;
	} else {
		snprintf(err, len, "tessd %s: ssh tunnel to %s down: %s", addr, a.host,
			 t->error[0] ? t->error : "ssh did not connect in time");
		release_locked(t);
		rc = -EHOSTUNREACH;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int mgr_tunnel_socket(const char *addr, char *path, size_t plen, char *err, size_t len)
{
	return tunnel_socket(addr, path, plen, err, len, true);
}

int mgr_tunnel_socket_now(const char *addr, char *path, size_t plen, char *err, size_t len)
{
	return tunnel_socket(addr, path, plen, err, len, false);
}

void mgr_tunnel_release(const char *addr)
{
	struct tunnel *t;

	pthread_mutex_lock(&lock);
	if ((t = find(addr)) != NULL)
		release_locked(t);
	pthread_mutex_unlock(&lock);
}

void mgr_tunnel_adopt(const char *addr)
{
	struct tunnel *t;

	pthread_mutex_lock(&lock);
	if ((t = find(addr)) != NULL)
		t->owned = true; /* wanted again at its next use */
	pthread_mutex_unlock(&lock);
}

void mgr_tunnel_forget(const char *addr)
{
	struct tunnel *t;

	pthread_mutex_lock(&lock);
	t = running ? find(addr) : NULL;
	if (t) {
		/* Not restarted, nor kept up by a later use, until a host has it again. */
		t->owned = false;
		t->wanted = false;
		t->retry_at = 0;
		t->backoff = 1;
		if (t->users == 0)
			wake(); /* stopped now; else when its last user is done */
	}
	pthread_mutex_unlock(&lock);
}

json_t *mgr_tunnel_json(const char *addr)
{
	struct mgr_tessd_addr a;
	struct tunnel *t;
	json_t *o;
	char why[8];

	if (addr[0] == '\0' || mgr_tessd_addr_parse(addr, &a, why, sizeof(why)) < 0 || !a.ssh)
		return NULL;
	pthread_mutex_lock(&lock);
	t = find(addr);
	if (t == NULL)
		o = json_pack("{s:s, s:s}", "state", "unused", "error",
			      "not started yet (started on first use)");
	else
		o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:s}", "state", state_names[t->state],
			      "local_socket", t->local, "pid", (int)t->pid, "starts",
			      (int)t->starts, "lost", (int)t->lost, "error", t->error);
	pthread_mutex_unlock(&lock);
	return o;
}
