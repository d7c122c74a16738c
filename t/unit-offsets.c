// SPDX-License-Identifier: BSD-3-Clause
/*
 * unit-offsets.c: the offset file parser is strict: every malformed,
 * unknown, duplicate or missing record is refused with FILE:LINE and what
 * is wrong; a file written by redprof reads back unchanged.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "offsets.h"
#include "tap.h"

static const char good[] =
	"# comment\n"
	"redprof-offsets 1\n"
	"build-id a50d6825e71f1473372299161f75fe50e80452de\n"
	"server redis 7.0.15\n"
	"function performEvictions 0x11da20 2146\n"
	"inlined yes\n"
	"part - 0x60b66 0\n"
	"site slowpath performEvictions+222 0x11dafe emulated disasm \"je 0x11e111\" slowpath\n"
	"value mem_reported slowpath rax+rbx from performEvictions+177,performEvictions+203 disasm\n"
	"value overhead slowpath rax from performEvictions+177 disasm\n"
	"value mem_used slowpath rbx from performEvictions+203 disasm\n"
	"value mem_tofree slowpath rbx-r12 from performEvictions+203,performEvictions+190 disasm\n"
	"delete performEvictions+753 0x11dd11 emulated disasm \"callq 0x94bd0\"\n"
	"global maxmemory server+3600 disasm\n"
	"global used_memory 0x25c798 disasm\n";

/* GOOD with line LINE (1-based) replaced by REPL ("" deletes it). */
static char *with_line(int line, const char *repl)
{
	char *out = NULL, *copy = strdup(good), *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int n = 0;

	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (++n == line) {
			if (*repl)
				fprintf(f, "%s\n", repl);
			continue;
		}
		fprintf(f, "%s\n", l);
	}
	fclose(f);
	free(copy);
	return out;
}

static void refused(int line, const char *repl, const char *want, const char *what)
{
	char *text = line ? with_line(line, repl) : strdup(repl);
	char err[512] = "";
	struct offsets o;
	int rc = offsets_parse_string("f.offsets", text, &o, err, sizeof(err));

	if (!ok(rc != 0 && strstr(err, want) != NULL, "%s is refused: %s", what, want))
		diag("  got rc %d, '%s'", rc, err);
	free(text);
}

static void appended(const char *extra, const char *want, const char *what)
{
	char *text = NULL;
	int n = asprintf(&text, "%s%s\n", good, extra);
	char err[512] = "";
	struct offsets o;
	int rc = n < 0 ? -1 : offsets_parse_string("f.offsets", text, &o, err, sizeof(err));

	if (!ok(rc != 0 && strstr(err, want) != NULL, "%s is refused: %s", what, want))
		diag("  got rc %d, '%s'", rc, err);
	free(text);
}

static void round_trip(void)
{
	struct offsets a, b;
	char err[512] = "", *out = NULL, buf[128];
	size_t len = 0;
	FILE *f;

	ok(!offsets_parse_string("good", good, &a, err, sizeof(err)), "a well-formed file parses (%s)", err);
	is_str(a.build_id, "a50d6825e71f1473372299161f75fe50e80452de", "build-id read");
	is_u64(a.site[0].addr, 0x11da20 + 222, "site resolved against the function: performEvictions+222");
	ok(a.site[0].slowpath && a.site[0].cls == INSN_EMULATED, "site is an emulated slow-path site");
	expr_format(&a.value[VAR_MEM_TOFREE].e, buf, sizeof(buf));
	is_str(buf, "rbx-r12", "mem_tofree expression read back");
	is_u64(a.value[VAR_MEM_TOFREE].e.t[1].sign, (uint64_t)-1, "second term subtracted");
	is_u64(a.value[VAR_MEM_TOFREE].e.t[1].from, 0x11da20 + 190, "producer resolved: performEvictions+190");
	ok(a.global[G_MAXMEMORY].present && !strcmp(a.global[G_MAXMEMORY].sym, "server") &&
	   a.global[G_MAXMEMORY].off == 3600, "global server+3600 read");
	ok(!a.global[G_STAT_NUMCOMMANDS].present, "absent global stays absent");
	is_u64(a.nparts, 1, "unnamed part read");

	f = open_memstream(&out, &len);
	offsets_write(&a, f);
	fclose(f);
	ok(!offsets_parse_string("written", out, &b, err, sizeof(err)), "what redprof writes parses (%s)", err);
	ok(a.site[0].addr == b.site[0].addr && a.value[VAR_MEM_REPORTED].e.n == b.value[VAR_MEM_REPORTED].e.n &&
	   a.del[0].file_offset == b.del[0].file_offset && a.global[G_USED_MEMORY].addr == b.global[G_USED_MEMORY].addr &&
	   !strcmp(a.site[0].insn, b.site[0].insn), "and reads back the same");
	free(out);
}

/* A file saved with CRLF line ends reads as the same file. */
static void crlf(void)
{
	char *text = NULL, err[512] = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct offsets o;

	for (const char *c = good; *c; c++)
		fputs(*c == '\n' ? "\r\n" : (char[]){ *c, 0 }, f);
	fclose(f);
	ok(!offsets_parse_string("crlf", text, &o, err, sizeof(err)) && o.nsites == 1 &&
	   o.value[VAR_MEM_TOFREE].present, "a file with CRLF line ends parses (%s)", err);
	free(text);
}

/* What reaches offsets_parse() from the command line: a directory, a missing file. */
static void paths(void)
{
	char err[512] = "";
	struct offsets o;

	ok(offsets_parse("/tmp", &o, err, sizeof(err)) == -EISDIR && strstr(err, "is a directory") &&
	   strstr(err, "--offsets-dir"), "a directory is refused as one, naming --offsets-dir: %s", err);
	ok(offsets_parse("/nonexistent/f.offsets", &o, err, sizeof(err)) == -ENOENT &&
	   strstr(err, "No such file"), "a missing file is refused: %s", err);
}

int main(void)
{
	round_trip();
	crlf();
	paths();
	refused(3, "build-id \x1b[31ma50d", "f.offsets:3: control character 0x1b", "a control character");
	refused(3, "build-id a50d\rx", "f.offsets:3: control character 0x0d", "a carriage return inside a line");
	refused(2, "redprof-offsets 2", "f.offsets:2: format 2 is not supported", "an unknown format version");
	refused(2, "", "f.offsets:2: not a redprof offset file", "a file without the format line");
	refused(0, "", "f.offsets: empty file", "an empty file");
	refused(3, "build-id XYZ", "f.offsets:3: malformed build-id", "a malformed build-id");
	refused(3, "", "missing build-id", "a file without build-id");
	refused(5, "function performEvictions 11da20 2146", "f.offsets:5: malformed address '11da20'",
		"an address without 0x");
	refused(5, "function performEvictions 0x11da20 2x", "f.offsets:5: malformed size '2x'", "a malformed size");
	refused(8, "site slowpath performEvictions+22x 0x11dafe emulated disasm \"je 0x11e111\"",
		"f.offsets:8: malformed offset in 'performEvictions+22x'", "a malformed code offset");
	refused(8, "site slowpath performEvictions+222 0x11dafe fast disasm \"je 0x11e111\"",
		"f.offsets:8: unknown instruction class 'fast'", "an unknown instruction class");
	refused(8, "site slowpath performEvictions+222 0x11dafe emulated magic \"je 0x11e111\"",
		"f.offsets:8: unknown strategy 'magic'", "an unknown strategy");
	refused(8, "site slowpath performEvictions+222 0x11dafe emulated disasm \"je 0x11e111",
		"f.offsets:8: unterminated quoted instruction", "an unterminated quote");
	refused(8, "site slowpath otherFunction+222 0x11dafe emulated disasm \"je 0x11e111\" slowpath",
		"'otherFunction' is neither the function nor one of its parts", "a site in another function");
	refused(10, "value overhead slowpath rzx from performEvictions+177 disasm",
		"f.offsets:10: unknown register 'rzx'", "an unknown register");
	refused(10, "value overhead slowpath rax+rbx+rcx+rdx from a,b,c,d disasm",
		"f.offsets:10: expression 'rax+rbx+rcx+rdx' has more than 3 terms", "too many terms");
	refused(10, "value overhead slowpath rax+rbx from performEvictions+177 disasm",
		"f.offsets:10: overhead has 2 terms but 1 producers", "a term without producer");
	refused(10, "value overhead nosuchsite rax from performEvictions+177 disasm",
		"f.offsets:10: overhead refers to site 'nosuchsite'", "a value at an undefined site");
	refused(10, "value overhead slowpath [server+3600] from performEvictions+177 disasm",
		"f.offsets:10: term 1 of overhead is a global: its producer must be '-'", "a global with a producer");
	refused(10, "value overhead slowpath [rsp+20] from performEvictions+177 disasm",
		"f.offsets:10: malformed displacement '20'", "a decimal displacement");
	refused(10, "value overhead slowpath [rsp-0x8000000000000000] from performEvictions+177 disasm",
		"f.offsets:10: displacement in '[rsp-0x8000000000000000]' is larger", "a displacement beyond 32 bits");
	refused(10, "value overhead slowpath [+3600] from - disasm",
		"f.offsets:10: malformed memory term '[+3600]'", "a global term without its object");
	refused(7, "part a,b 0x60b66 0", "f.offsets:7: malformed part name 'a,b'", "a part name with a comma");
	refused(8, "site slowpath performEvictions+222 0x11dafe emulated disasm je\"0x11e111 slowpath",
		"f.offsets:8: a double quote inside a field", "a quote inside a field");
	refused(2, "redprof-offsets 1 r", "f.offsets:2: redprof-offsets wants: VERSION", "a format line with two fields");
	refused(10, "value pressure slowpath rax from performEvictions+177 disasm",
		"f.offsets:10: unknown variable 'pressure'", "an unknown variable");
	refused(14, "global maxmemory server+36x0 disasm", "f.offsets:14: malformed global location",
		"a malformed global location");
	refused(14, "global hz server+100 disasm", "f.offsets:14: unknown global 'hz'", "an unknown global");
	appended("build-id a50d6825e71f1473372299161f75fe50e80452de", "f.offsets:16: duplicate build-id",
		 "a second build-id");
	appended("value mem_used slowpath rbx from performEvictions+203 disasm", "f.offsets:16: duplicate value for mem_used",
		 "a second value of one variable");
	appended("site slowpath performEvictions+222 0x11dafe emulated disasm \"je 0x11e111\"",
		 "f.offsets:16: duplicate site 'slowpath'", "a second site of one name");
	appended("global maxmemory server+3600 disasm", "f.offsets:16: duplicate global maxmemory", "a second global");
	appended("probe performEvictions+1", "f.offsets:16: unknown key 'probe'", "an unknown key");
	appended("inlined maybe", "f.offsets:16: duplicate inlined line", "a second inlined line");
	return tap_done();
}
