// SPDX-License-Identifier: BSD-3-Clause
/*
 * cli.c: argp options and the messages people read. Lower layers return
 * -errno and a stage; every sentence naming a problem and its fix is here.
 */
#include <argp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>

#include "analysis.h"
#include "cli.h"
#include "config.h"
#include "export.h"
#include "exporter.h"
#include "hist.h"
#include "http.h"
#include "report.h"
#include "util.h"

const char *argp_program_version = PACKAGE_NAME " " PACKAGE_VERSION;
const char *argp_program_bug_address = NULL;

static const char doc[] =
"Profile Redis eviction live: performEvictions latency, commands/s, and the\n"
"variables of getMaxmemoryState (mem_tofree, mem_used, overhead) read by\n"
"uprobes at per-build instruction offsets.\n"
"\n"
"USAGE: redprof -p PID [-i SECS] [-d SECS] [-u|-m] [--text|--json] [--full]\n"
"               [--export FILE [--format json|csv|openmetrics]] [--listen [ADDR:]PORT]\n"
"       redprof report SNAPSHOT.json [SNAPSHOT2.json] [-o FILE.html|FILE.svg]\n"
"       redprof offsets generate (BINARY | -p PID) [-o FILE] [--strategy dwarf|disasm]\n"
"       redprof offsets show (FILE | -p PID)\n"
"\n"
"Needs root, or the capabilities CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and\n"
"CAP_DAC_READ_SEARCH.\n"
"\v"
"EXAMPLES:\n"
"    redprof -p 1234                # live view (text when not a terminal)\n"
"    redprof -p 1234 -u -i 5        # microsecond buckets, 5 s intervals\n"
"    redprof -p 1234 --json -d 60   # JSON Lines for a minute\n"
"    redprof -p 1234 --export incident.json   # the whole capture, when redprof ends\n"
"    redprof -p 1234 --text --listen 9187     # /metrics for Prometheus on 127.0.0.1:9187\n"
"    redprof report incident.json -o incident.html\n"
"    redprof offsets generate -p 1234 -o build.offsets\n"
"\n"
"Exit status: 0 done (also when the target exits), 1 run-time failure (such as\n"
"output that cannot be written), 2 bad command line, 3 unusable target,\n"
"4 missing privilege or kernel support.";

enum {
	OPT_UNITS = 0x100,
	OPT_TEXT,
	OPT_JSON,
	OPT_OFFSETS,
	OPT_OFFSETS_DIR,
	OPT_EXPORT,
	OPT_FORMAT,
	OPT_LISTEN,
	OPT_FULL,
	OPT_FORCE_OFFSETS,
};

static const struct argp_option options[] = {
	{ "pid", 'p', "PID", 0, "Redis or Valkey server process to profile", 0 },
	{ "interval", 'i', "SECS", 0, "Output interval in seconds (default 1; 0.1 to 9223372036)", 0 },
	{ "duration", 'd', "SECS", 0, "Stop after this many seconds", 0 },
	{ "microseconds", 'u', NULL, 0, "Latency histograms in microseconds", 0 },
	{ "milliseconds", 'm', NULL, 0, "Latency histograms in milliseconds", 0 },
	{ "units", OPT_UNITS, "ns|us|ms", 0, "Latency histogram unit (default ns)", 0 },
	{ "text", OPT_TEXT, NULL, 0, "Text output (default when stdout is not a terminal)", 0 },
	{ "json", OPT_JSON, NULL, 0, "JSON Lines output, one object per interval", 0 },
	{ "offsets", OPT_OFFSETS, "FILE", 0, "Use this offset file (its build-id must match)", 0 },
	{ "offsets-dir", OPT_OFFSETS_DIR, "DIR", 0, "Look up offset files by build-id in DIR", 0 },
	{ "force-offsets", OPT_FORCE_OFFSETS, NULL, 0, "Use the --offsets file even where it reads a counter "
	  "elsewhere than redprof's own analysis finds it (every output then says so)", 0 },
	{ "export", OPT_EXPORT, "FILE", 0, "Write the whole capture to FILE when redprof ends (repeatable; "
	  "format from --format or the name: .json, .csv, .om)", 0 },
	{ "format", OPT_FORMAT, "json|csv|openmetrics", 0, "Format of the --export files", 0 },
	{ "listen", OPT_LISTEN, "[ADDR:]PORT", 0, "Serve /metrics (OpenMetrics) on PORT of 127.0.0.1, or of ADDR "
	  "(e.g. 0.0.0.0:PORT for other hosts)", 0 },
	{ "full", OPT_FULL, NULL, 0, "Probe every eviction call's entry and return (2 probe hits per command) to "
	  "time calls that do not evict too; by default only evicting calls are probed", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose debug output (libbpf, site choices)", 0 },
	{ 0 },
};

static int set_unit(struct argp_state *state, struct env *env, int unit, bool *unit_set)
{
	if (*unit_set && env->unit != unit)
		argp_error(state, "-u, -m and --units name different units: give one");
	env->unit = unit;
	*unit_set = true;
	return 0;
}

/* Each --export file's format: --format's, else its extension's. */
static void export_formats(struct argp_state *state, struct env *env, int format)
{
	for (size_t i = 0; i < env->nexports; i++) {
		struct export_opt *o = &env->exports[i];

		o->format = format >= 0 ? format : export_format_of_path(o->path);
		if (o->format < 0)
			argp_error(state, "cannot tell the format of '%s' from its name: name it .json, .csv or .om, "
				   "or give --format json|csv|openmetrics", o->path);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(env->exports[k].path, o->path))
				argp_error(state, "--export '%s' is given twice", o->path);
	}
	if (format >= 0 && !env->nexports)
		argp_error(state, "--format is the format of --export files: give --export FILE too");
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	static bool unit_set;
	static int format = -1;
	struct sockaddr_storage ss;
	socklen_t len;
	struct env *env = state->input;
	struct stat st;
	int64_t pid;
	int unit, err;

	switch (key) {
	case 'p':
		if (parse_s64(arg, &pid) || pid <= 0 || pid > 4194304)
			argp_error(state, "invalid PID '%s': give the process id of a running redis-server", arg);
		env->pid = (int)pid;
		break;
	case 'i':
		err = parse_seconds(arg, &env->interval);
		if (err == -EOVERFLOW)
			argp_error(state, "interval %s is too long: give 0.1 to %.0f seconds (292 years: the most "
				   "redprof's nanosecond clock holds)", arg, SECONDS_MAX);
		if (err)
			argp_error(state, "invalid interval '%s': give 0.1 to %.0f seconds", arg, SECONDS_MAX);
		if (env->interval < 0.1)
			argp_error(state, "interval %s is too short: give at least 0.1 seconds", arg);
		break;
	case 'd':
		err = parse_seconds(arg, &env->duration);
		if (err == -EOVERFLOW)
			argp_error(state, "duration %s is too long: give at most %.0f seconds (292 years: the most "
				   "redprof's nanosecond clock holds), or no -d to run until stopped", arg,
				   SECONDS_MAX);
		if (err)
			argp_error(state, "invalid duration '%s': give a number of seconds greater than 0 and at "
				   "most %.0f", arg, SECONDS_MAX);
		break;
	case 'u':
		return set_unit(state, env, EV_USEC, &unit_set);
	case 'm':
		return set_unit(state, env, EV_MSEC, &unit_set);
	case OPT_UNITS:
		unit = unit_parse(arg);
		if (unit < 0)
			argp_error(state, "invalid unit '%s': give ns, us or ms", arg);
		return set_unit(state, env, unit, &unit_set);
	case OPT_TEXT:
	case OPT_JSON:
		if (env->output != OUT_AUTO)
			argp_error(state, "--text and --json exclude each other: give one");
		env->output = key == OPT_TEXT ? OUT_TEXT : OUT_JSON;
		break;
	case OPT_OFFSETS:
		env->offsets_file = arg;
		break;
	case OPT_OFFSETS_DIR:
		env->offsets_dir = arg;
		break;
	case OPT_EXPORT:
		if (env->nexports == CLI_MAX_EXPORTS)
			argp_error(state, "at most %d --export files", CLI_MAX_EXPORTS);
		if (!*arg)
			argp_error(state, "--export needs a file name");
		env->exports[env->nexports++].path = arg;
		break;
	case OPT_FORMAT:
		format = export_format_parse(arg);
		if (format < 0)
			argp_error(state, "invalid format '%s': give json, csv or openmetrics", arg);
		break;
	case OPT_LISTEN:
		if (http_parse_addr(arg, &ss, &len))
			argp_error(state, "invalid --listen '%s': give PORT (on 127.0.0.1), ADDR:PORT or [ADDR6]:PORT, "
				   "with a numeric address and a port from 1 to 65535", arg);
		env->listen = arg;
		break;
	case OPT_FULL:
		env->full = true;
		break;
	case OPT_FORCE_OFFSETS:
		env->force_offsets = true;
		break;
	case 'v':
		env->verbose++;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!env->pid)
			argp_error(state, "no target: give -p PID of a redis-server");
		export_formats(state, env, format);
		if (env->offsets_file && env->offsets_dir)
			argp_error(state, "--offsets and --offsets-dir exclude each other: give one");
		if (env->force_offsets && !env->offsets_file)
			argp_error(state, "--force-offsets applies to a file given with --offsets FILE");
		if (env->offsets_dir && stat(env->offsets_dir, &st))
			argp_error(state, "--offsets-dir %s: %s: give the directory that holds the offset files",
				   env->offsets_dir, strerror(errno));
		if (env->offsets_dir && !S_ISDIR(st.st_mode))
			argp_error(state, "--offsets-dir %s is not a directory: give the directory that holds the "
				   "offset files, or the file itself with --offsets", env->offsets_dir);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

void cli_parse(int argc, char **argv, struct env *env)
{
	static const struct argp argp = { options, parse_opt, NULL, doc, NULL, NULL, NULL };

	memset(env, 0, sizeof(*env));
	env->interval = 1;
	env->unit = EV_NSEC;
	argp_err_exit_status = EXIT_USAGE;
	argp_parse(&argp, argc, argv, 0, NULL, env);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("redprof: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The capabilities redprof needs (README, Requirements) that it does not have: "CAP_X and CAP_Y". */
static void missing_caps(char *buf, size_t len)
{
	static const struct { int cap; const char *name; } need[] = {
		{ CAP_BPF, "CAP_BPF" },
		{ CAP_PERFMON, "CAP_PERFMON" },
		{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE" },
		{ CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH" },
	};
	const char *miss[ARRAY_SIZE(need)];
	size_t n = 0, used = 0;

	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (!cap_effective(need[i].cap))
			miss[n++] = need[i].name;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i == 0 ? "" : i + 1 < n ? ", " : " and ",
					 miss[i]);
}

static int privilege_error(const char *what, int pid)
{
	char miss[128];

	missing_caps(miss, sizeof(miss));
	if (miss[0] && geteuid())
		say("%s: permission denied. Run as root, or grant %s (e.g. sudo redprof ...)", what, miss);
	else if (miss[0])
		say("%s: permission denied: redprof runs as root but without %s (a container or service "
		    "that drops capabilities?). Run it where root keeps them, e.g. on the host", what, miss);
	else
		say("%s: permission denied although redprof has every capability it needs: the kernel "
		    "refuses (PID %d has capabilities redprof lacks, or a security module such as Yama, "
		    "SELinux or AppArmor forbids tracing it). Check that PID %d is the Redis server "
		    "(pgrep -a redis-server), and run redprof outside the confinement", what, pid, pid);
	return EXIT_PRIVILEGE;
}

static int target_error(const struct session_error *e, int pid)
{
	switch (e->err) {
	case -ESRCH:
		say("no process with PID %d: check the PID (pgrep -a redis-server)", pid);
		return EXIT_TARGET;
	case -EACCES:
	case -EPERM:
		return privilege_error("reading the target's executable", pid);
	case -ENOEXEC:
		break;
	default:
		say("cannot read the executable of PID %d: %s", pid, strerror(-e->err));
		return EXIT_TARGET;
	}
	switch (e->problem) {
	case TARGET_ZOMBIE:
		say("PID %d has exited (a zombie its parent has not reaped): give the PID of a running "
		    "redis-server (pgrep -a redis-server)", pid);
		break;
	case TARGET_KTHREAD:
		say("PID %d is a kernel thread, not a Redis server: give the PID of redis-server "
		    "(pgrep -a redis-server)", pid);
		break;
	case TARGET_CORRUPT:
		say("PID %d runs an executable that is truncated or corrupted (its ELF headers point past "
		    "the end of the file): redprof cannot read its code. Restart the server from an intact "
		    "binary", pid);
		break;
	case TARGET_NOT_ELF:
		say("PID %d is not a Redis server: it has no x86-64 ELF executable (a kernel thread or "
		    "a script?). Give the PID of redis-server (pgrep -a redis-server)", pid);
		break;
	case TARGET_NOT_REDIS:
		say("PID %d is not a Redis or Valkey server: its executable has no processCommand "
		    "and server symbols. Give the PID of redis-server (pgrep -a redis-server)", pid);
		break;
	case TARGET_NO_EVICT:
		say("PID %d is a Redis server without an eviction function (neither performEvictions "
		    "nor freeMemoryIfNeeded): redprof supports Redis 6.0 and later, and Valkey", pid);
		break;
	case TARGET_AMBIGUOUS:
		say("PID %d: the eviction function's name maps to several functions in the "
		    "executable; refusing to guess which one to probe", pid);
		break;
	default:
		say("PID %d cannot be profiled", pid);
		break;
	}
	return EXIT_TARGET;
}

int cli_session_error(const struct session_error *e, int pid)
{
	switch (e->stage) {
	case STAGE_TARGET:
		return target_error(e, pid);
	case STAGE_PRIVILEGE:
		return privilege_error("loading BPF programs", pid);
	case STAGE_KERNEL:
		say("this kernel has no perf-event uprobes (/sys/bus/event_source/devices/uprobe "
		    "is missing): redprof needs a kernel built with CONFIG_UPROBE_EVENTS and will not "
		    "fall back to tracefs probes, which outlive the process that made them");
		return EXIT_PRIVILEGE;
	case STAGE_OFFSETS:
		say("%s. Nothing was attached; fix the file, or make one for this build with: redprof offsets "
		    "generate -p %d -o FILE", e->detail, pid);
		return EXIT_TARGET;
	case STAGE_PLAN:
		say("cannot place probes in PID %d: %s", pid, analysis_strerror(e->err));
		return EXIT_TARGET;
	case STAGE_LOAD:
		say("the kernel refused redprof's BPF programs (%s): it needs BPF with BTF-less "
		    "uprobes, global data and attach cookies (Linux 5.15 or later); run with -v for "
		    "the verifier log", strerror(-e->err));
		return EXIT_PRIVILEGE;
	case STAGE_ATTACH:
		if (e->err == -EFAULT) {
			say("refusing to attach at %s: it is not an instruction boundary of its function",
			    e->site);
			return EXIT_TARGET;
		}
		say("cannot attach a uprobe at %s in PID %d: %s", e->site, pid, strerror(-e->err));
		return e->err == -ESRCH || e->err == -ENOENT ? EXIT_TARGET : EXIT_RUNTIME;
	}
	return EXIT_RUNTIME;
}

int cli_exporter_error(const struct exporter_error *e)
{
	const char *why = strerror(-e->err);

	switch (e->stage) {
	case EXPORTER_FILE:
		switch (e->err) {
		case -EISDIR:
			say("cannot export to %s: it is a directory; give a file name in it", e->what);
			break;
		case -EINVAL:
			say("cannot export to %s: it exists and is not a regular file; give the path of a file "
			    "(redprof writes it under a temporary name and renames it)", e->what);
			break;
		case -ENOENT:
		case -ENOTDIR:
			say("cannot export to %s: its directory does not exist; create it or give another path",
			    e->what);
			break;
		case -ENOSPC:
		case -EDQUOT:
			say("cannot export to %s: its file system is full (%s); free some space or export to "
			    "another file system", e->what, why);
			break;
		case -EACCES:
		case -EPERM:
		case -EROFS:
			say("cannot export to %s: its directory is not writable (%s); export to a directory "
			    "redprof can write to", e->what, why);
			break;
		default:
			say("cannot export to %s: a test write in its directory failed (%s)", e->what, why);
			break;
		}
		return EXIT_RUNTIME;
	case EXPORTER_LISTEN:
		switch (e->err) {
		case -EADDRINUSE:
			say("cannot listen on %s: the port is in use; choose another with --listen [ADDR:]PORT",
			    e->what);
			break;
		case -EADDRNOTAVAIL:
			say("cannot listen on %s: the address is not one of this host's; give one it has "
			    "(ip -brief address)", e->what);
			break;
		case -EACCES:
			say("cannot listen on %s: ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a "
			    "higher port", e->what);
			break;
		default:
			say("cannot serve /metrics on %s: %s", e->what, why);
			break;
		}
		return EXIT_RUNTIME;
	case EXPORTER_WRITE:
		say("could not write the export %s: %s%s; the capture's total follows on standard error", e->what,
		    why, e->err == -ENOSPC || e->err == -EDQUOT ? " (free some space and export to it next time)" : "");
		return EXIT_RUNTIME;
	case EXPORTER_DROPPED:
		say("%zu intervals could not be kept for the export files (%s): %s and the other exports lack "
		    "them (its JSON says intervals_dropped)", e->dropped, e->err ? strerror(-e->err) : "spool error",
		    e->what);
		return EXIT_RUNTIME;
	}
	return EXIT_RUNTIME;
}

void cli_listen_note(const char *listen)
{
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN] = "?";
	socklen_t len;
	bool v6;

	if (!listen || http_parse_addr(listen, &ss, &len))
		return;
	v6 = ss.ss_family == AF_INET6;
	inet_ntop(ss.ss_family, v6 ? (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
				   : (void *)&((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
	say("serving /metrics at http://%s%s%s:%d/metrics%s", v6 ? "[" : "", host, v6 ? "]" : "",
	    ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port),
	    http_addr_is_loopback(&ss) ? "" : ", which other hosts can reach: firewall the port if that is not meant");
}

void cli_spool_lost(int err)
{
	say("an interval could not be kept for --export (%s): the export files will lack it; free some space "
	    "where they go", strerror(-err));
}

int cli_exports_finish(struct exporter *x, const struct session *s, int unit)
{
	struct exporter_error errors[CLI_MAX_EXPORTS + 1];
	size_t n = exporter__finish(x, s, errors);
	int rc = EXIT_OK;

	for (size_t i = 0; i < n; i++)
		rc = cli_exporter_error(&errors[i]);
	if (n)
		text_sample(stderr, s, exporter__total(x), unit, true);
	return rc;
}

void cli_resolve_pid(int *pid)
{
	char comm[2][64] = { "", "" };
	pid_t tgid;

	/* No such thread: target__open says so in its own words. */
	if (proc_tgid(*pid, &tgid) || tgid == *pid)
		return;
	for (int i = 0; i < 2; i++) {
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", i ? (int)tgid : *pid);
		f = fopen(path, "re");
		if (f && fgets(comm[i], sizeof(comm[i]), f))
			comm[i][strcspn(comm[i], "\n")] = '\0';
		if (f)
			fclose(f);
	}
	say("%d is not a process but a thread (%s) of PID %d (%s): using PID %d", *pid, comm[0], (int)tgid,
	    comm[1], (int)tgid);
	*pid = (int)tgid;
}

static int verbosity;

/* Our own messages say what failed; libbpf's (verifier logs included) are for -v. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (verbosity < 1 || (level == LIBBPF_DEBUG && verbosity < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void cli_libbpf_logging(int verbose)
{
	verbosity = verbose;
	libbpf_set_print(libbpf_print);
}
