/* SPDX-License-Identifier: BSD-3-Clause */
#include "tasks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tlog.h"

#define LOG_PIECE 1800 /* bytes of a task's output per log line (escaped: < 4 KiB) */

static bool aborting; /* tessmgrd stops: running tasks are killed, none starts */

void mgr_tasks_abort(void)
{
	__atomic_store_n(&aborting, true, __ATOMIC_RELAXED);
}

int mgr_task_subst(const char *arg, const struct mgr_task_vars *v, char *out, size_t len)
{
	const char *vals[MGR_TASK_VARS] = {
		[MGR_TASK_VAR_DESKTOP] = v->desktop, [MGR_TASK_VAR_TENANT] = v->tenant,
		[MGR_TASK_VAR_HOST] = v->host,       [MGR_TASK_VAR_ADDRESS] = v->address,
		[MGR_TASK_VAR_IP] = v->ip,
	};
	size_t used = 0;

	if (len == 0)
		return -ENOSPC;
	while (*arg) {
		const char *put = arg;
		size_t n = 1, skip = 1;
		int i = mgr_task_var_at(arg, &skip);
		if (i >= 0) {
			put = vals[i];
			n = strlen(vals[i]);
		}
		if (used + n >= len) {
			out[0] = '\0';
			return -ENOSPC;
		}
		memcpy(out + used, put, n);
		used += n;
		arg += skip;
	}
	out[used] = '\0';
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* JSON strings are UTF-8: a program's output may be anything, so bytes outside printable
 * ASCII (but newline and tab) become '?'. */
static void printable(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || (unsigned char)s[i] >= 0x7f)
			s[i] = '?';
}

/* What a task printed: its first MGR_TASK_OUTPUT_MAX bytes (for the log) and its last
 * MGR_TASK_KEEP (the job keeps the first and last MGR_TASK_KEEP). */
struct output {
	char *buf; /* MGR_TASK_OUTPUT_MAX + 1 */
	size_t used;
	uint64_t total;
	char tail[MGR_TASK_KEEP]; /* a ring: the byte total % MGR_TASK_KEEP is the oldest */
};

static void output_add(struct output *out, const char *p, size_t n)
{
	size_t room = MGR_TASK_OUTPUT_MAX - out->used;

	memcpy(out->buf + out->used, p, n < room ? n : room);
	out->used += n < room ? n : room;
	for (size_t i = n > MGR_TASK_KEEP ? n - MGR_TASK_KEEP : 0; i < n; i++)
		out->tail[(out->total + i) % MGR_TASK_KEEP] = p[i];
	out->total += n;
}

/* The job's text: all of it, or its head and tail with what was cut between them. */
static char *output_kept(const struct output *out)
{
	char *s, cut[64];
	size_t n;

	if (out->total <= 2 * MGR_TASK_KEEP)
		return strndup(out->buf, out->used);
	n = (size_t)snprintf(cut, sizeof(cut), "\n[... %llu bytes cut ...]\n",
			     (unsigned long long)(out->total - 2 * MGR_TASK_KEEP));
	s = malloc(2 * MGR_TASK_KEEP + n + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, out->buf, MGR_TASK_KEEP);
	memcpy(s + MGR_TASK_KEEP, cut, n);
	size_t old = (size_t)(out->total % MGR_TASK_KEEP);
	memcpy(s + MGR_TASK_KEEP + n, out->tail + old, MGR_TASK_KEEP - old);
	memcpy(s + MGR_TASK_KEEP + n + MGR_TASK_KEEP - old, out->tail, old);
	s[2 * MGR_TASK_KEEP + n] = '\0';
	printable(s, 2 * MGR_TASK_KEEP + n);
	return s;
}

struct outcome {
	int rc; /* exit status, or -1: killed (timeout or signal), did not start */
	bool timed_out, aborted;
	char why[256]; /* "" or why it did not run / how it ended */
};

static pid_t spawn(const struct mgr_task_spec *t, char **argv, char **envp, int outfd, char *why,
		   size_t len)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	pid_t pid = -1;
	int rc;

	sigemptyset(&none);
	sigfillset(&dfl);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outfd, 1);
	posix_spawn_file_actions_adddup2(&fa, outfd, 2);
	/* Nothing of tessmgrd's (its store, sockets) reaches the program. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	/* Its own group, killed as a whole at its timeout; tessmgrd's threads block
	 * INT/TERM/HUP and ignore PIPE: the program gets the defaults, of every signal. */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, t->program, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		snprintf(why, len, "cannot run %.160s: %s", t->program, strerror(rc));
		return -1;
	}
	return pid;
}

/* Once the program has exited, what its output pipe still holds is read for up to this long
 * (a child it left in the background may keep the pipe open for ever). */
#define DRAIN_MS 100

/* Whether pid has exited, leaving it a zombie (WNOWAIT): its process group id cannot be reused
 * until it is reaped, so that the group can still be killed safely. */
static bool exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/*
 * Reads the program's output (struct output: what is not kept is read and dropped) until it
 * has exited and its output is drained (its end, or DRAIN_MS), or its deadline passes; then
 * kills its process group (what it left behind) before it reaps it.
 */
static void wait_task(pid_t pid, int fd, uint64_t deadline, struct output *out, struct outcome *o)
{
	char scratch[4096];
	bool eof = false, done = false;
	uint64_t drain_until = 0;
	int status = 0;

	for (;;) {
		uint64_t now = now_ms();
		if (!done && exited(pid)) {
			done = true;
			drain_until = now + DRAIN_MS;
		}
		if (done && (eof || now >= drain_until))
			break;
		if (!done && now >= deadline) {
			o->timed_out = true;
			break;
		}
		if (__atomic_load_n(&aborting, __ATOMIC_RELAXED)) {
			o->aborted = true;
			break;
		}
		if (eof) { /* its output closed: it ends, or has ended */
			usleep(10000);
			continue;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t left = (done ? drain_until : deadline) - now;
		/* Short turns: its exit and shutdown are noticed within 100 ms. */
		int rc = poll(&p, 1, left > 100 ? 100 : (int)left);
		if (rc < 0 && errno != EINTR) {
			eof = true;
			continue;
		}
		if (rc <= 0)
			continue;
		ssize_t n = read(fd, scratch, sizeof(scratch));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			eof = true;
		else
			output_add(out, scratch, (size_t)n);
	}
	/* The group first (the program not reaped yet, its id still ours): what it started
	 * goes too, whether it ended or timed out. A descendant that called setsid has left
	 * the group: tessmgrd's systemd unit's cgroup still has it. */
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno == EINTR)
			continue;
		o->rc = -1;
		snprintf(o->why, sizeof(o->why), "cannot wait for it: %s", strerror(errno));
		return;
	}
	if (o->timed_out || o->aborted) {
		o->rc = -1;
		snprintf(o->why, sizeof(o->why), "%s",
			 o->timed_out ? "timed out: killed" : "tessmgrd is stopping: killed");
		return;
	}
	if (WIFEXITED(status)) {
		o->rc = WEXITSTATUS(status);
	} else {
		o->rc = -1;
		snprintf(o->why, sizeof(o->why), "killed by signal %d",
			 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
}

static void run_one(const struct mgr_task_spec *t, const struct mgr_task_vars *v, uint32_t job,
		    enum mgr_task_when when, struct output *out, struct outcome *o)
{
	char *argv[MGR_TASK_MAX_ARGS + 2] = { 0 }, *envp[8] = { 0 };
	char(*args)[MGR_TASK_ARG_LEN * 2] = calloc(t->n_args + 1, sizeof(*args));
	char env[7][MGR_TASK_ARG_LEN];
	int pipefd[2] = { -1, -1 };
	pid_t pid;

	o->rc = -1;
	if (args == NULL) {
		snprintf(o->why, sizeof(o->why), "out of memory");
		return;
	}
	if (__atomic_load_n(&aborting, __ATOMIC_RELAXED)) {
		snprintf(o->why, sizeof(o->why), "not run: tessmgrd is stopping");
		free(args);
		return;
	}
	argv[0] = (char *)t->program;
	for (uint32_t i = 0; i < t->n_args; i++) {
		if (mgr_task_subst(t->args[i], v, args[i], sizeof(args[i])) < 0) {
			snprintf(o->why, sizeof(o->why), "argument %u is too long once substituted",
				 i);
			free(args);
			return;
		}
		argv[i + 1] = args[i];
	}
	snprintf(env[0], sizeof(env[0]),
		 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
		 "/sbin:/bin");
	snprintf(env[1], sizeof(env[1]), "TESS_DESKTOP=%s", v->desktop);
	snprintf(env[2], sizeof(env[2]), "TESS_TENANT=%s", v->tenant);
	snprintf(env[3], sizeof(env[3]), "TESS_HOST=%s", v->host);
	snprintf(env[4], sizeof(env[4]), "TESS_ADDRESS=%s", v->address);
	snprintf(env[5], sizeof(env[5]), "TESS_JOB=%u", job);
	snprintf(env[6], sizeof(env[6]), "TESS_WHEN=%s", mgr_task_whens[when]);
	for (unsigned i = 0; i < 7; i++)
		envp[i] = env[i];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(o->why, sizeof(o->why), "no pipe: %s", strerror(errno));
		free(args);
		return;
	}
	uint64_t deadline = now_ms() + (uint64_t)t->timeout_sec * 1000;
	pid = spawn(t, argv, envp, pipefd[1], o->why, sizeof(o->why));
	close(pipefd[1]);
	free(args);
	if (pid > 0)
		wait_task(pid, pipefd[0], deadline, out, o);
	close(pipefd[0]);
}

static bool ok_code(const struct mgr_task_spec *t, int rc)
{
	for (uint32_t i = 0; i < t->n_ok_codes; i++)
		if (t->ok_codes[i] == rc)
			return true;
	return false;
}

/* A spec's copy with arrays of its own (through its JSON: the schema knows them). */
static int copy_spec(struct mgr_task_spec *dst, const struct mgr_task_spec *src)
{
	json_t *j = cfg_encode(&mgr_task_schema, src);
	struct cfg_errs errs;
	int rc;

	cfg_errs_init(&errs);
	rc = j ? cfg_decode(&mgr_task_schema, j, dst, "", &errs) : -ENOMEM;
	json_decref(j);
	return rc;
}

/* The tasks that apply, copied under the lock (their specs may change meanwhile). */
static struct mgr_task_spec *matching(const struct mgr_job *j, enum mgr_task_when when,
				      struct mgr_task_vars *v, uint32_t *n)
{
	struct mgr_task_spec *out = NULL;

	*n = 0;
	memset(v, 0, sizeof(*v));
	pthread_mutex_lock(&mgr.lock);
	const struct mgr_desktop *d = mgr_desktop_get(&mgr, j->desktop_id);
	const struct mgr_tenant *t = d ? mgr_tenant_get(&mgr, d->tenant_id) : NULL;
	const struct mgr_model *m = d ? mgr_model_get(&mgr, d->model_id) : NULL;
	const struct mgr_host *h = d ? mgr_host_get(&mgr, d->host_id) : NULL;
	if (d && mgr.n_tasks)
		out = calloc(mgr.n_tasks, sizeof(*out));
	for (uint32_t i = 0; out && i < mgr.n_tasks; i++) {
		const struct mgr_task_spec *s = &mgr.tasks[i].spec;
		if (!s->enabled || s->when != when ||
		    (s->tenant[0] && (t == NULL || strcmp(s->tenant, t->spec.name) != 0)) ||
		    (s->model[0] && (m == NULL || strcmp(s->model, m->spec.name) != 0)))
			continue;
		if (copy_spec(&out[*n], s) == 0)
			(*n)++;
	}
	if (d) {
		snprintf(v->desktop, sizeof(v->desktop), "%s", d->name);
		snprintf(v->address, sizeof(v->address), "%s", d->mac);
		if (d->address)
			cfg_fmt_ip4(d->address, v->ip, sizeof(v->ip));
	}
	if (t)
		snprintf(v->tenant, sizeof(v->tenant), "%s", t->spec.name);
	if (h)
		snprintf(v->host, sizeof(v->host), "%s", h->spec.name);
	pthread_mutex_unlock(&mgr.lock);
	return out;
}

/* A task's output, up to MGR_TASK_OUTPUT_MAX, goes to the log whole (a log line is up to 4 KiB:
 * in pieces, a newline written as backslash n: each piece one line); the job keeps its head and
 * tail only. */
static void log_output(const struct mgr_job *j, const char *name, const struct output *out)
{
	char line[2 * LOG_PIECE + 1];

	for (size_t off = 0; off < out->used; off += LOG_PIECE) {
		size_t n = out->used - off < LOG_PIECE ? out->used - off : LOG_PIECE, k = 0;
		for (size_t i = 0; i < n; i++) {
			char c = out->buf[off + i];
			if (c == '\n') {
				line[k++] = '\\';
				line[k++] = 'n';
			} else {
				line[k++] = c == '\t' ? ' ' : c;
			}
		}
		line[k] = '\0';
		tlog(LOG_INFO,
		     TLOG_F(.job = j->id, .desktop = j->desktop_id, .tenant = j->tenant_id,
			    .host = j->host_id),
		     "job %u: task %s output, bytes %zu-%zu of %llu: %s", j->id, name, off, off + n,
		     (unsigned long long)out->total, line);
	}
}

int mgr_tasks_run(const struct mgr_job *j, enum mgr_task_when when, uint64_t *ms_total, char *err,
		  size_t len)
{
	struct mgr_task_vars v;
	uint32_t n;
	struct mgr_task_spec *tasks = matching(j, when, &v, &n);
	char *buf = n ? malloc(MGR_TASK_OUTPUT_MAX + 1) : NULL;
	int rc = 0;

	for (uint32_t i = 0; i < n && rc == 0; i++) {
		const struct mgr_task_spec *t = &tasks[i];
		struct outcome o = { .rc = -1 };
		struct output out = { .buf = buf };
		uint64_t start = now_ms();

		if (buf == NULL)
			snprintf(o.why, sizeof(o.why), "out of memory");
		else
			run_one(t, &v, j->id, when, &out, &o);
		uint64_t ms = now_ms() - start;
		if (ms_total)
			*ms_total += ms;
		bool ok = o.rc >= 0 && ok_code(t, o.rc);
		if (buf) {
			printable(buf, out.used);
			buf[out.used] = '\0';
		}
		char *kept = buf ? output_kept(&out) : NULL;
		json_t *r =
			json_pack("{s:s, s:s, s:i, s:s, s:I, s:b, s:b}", "name", t->name, "when",
				  mgr_task_whens[when], "rc", o.rc, "output", kept ? kept : "",
				  "ms", (json_int_t)ms, "ok", ok, "timed_out", o.timed_out);
		free(kept);
		if (r && o.why[0])
			json_object_set_new(r, "error", json_string(o.why));
		if (r && j->tasks)
			json_array_append_new(j->tasks, r);
		else
			json_decref(r);
		tlog(ok ? LOG_INFO : LOG_WARNING,
		     TLOG_F(.job = j->id, .desktop = j->desktop_id, .tenant = j->tenant_id,
			    .host = j->host_id),
		     "job %u: task %s (%s): %s%s%s, rc %d, %llu ms", j->id, t->name,
		     mgr_task_whens[when], ok ? "ok" : "failed", o.why[0] ? ": " : "", o.why, o.rc,
		     (unsigned long long)ms);
		if (buf)
			log_output(j, t->name, &out);
		if (!ok && !t->continue_on_error) {
			if (o.why[0])
				snprintf(err, len, "task %s failed: %s", t->name, o.why);
			else
				snprintf(err, len, "task %s failed: exit code %d", t->name, o.rc);
			rc = -EIO;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		cfg_free(&mgr_task_schema, &tasks[i]);
	free(tasks);
	free(buf);
	return rc;
}
