// SPDX-License-Identifier: BSD-3-Clause
/*
 * unit-offsets.c: the offset file parser is strict: every malformed,
 * unknown, duplicate or missing record is refused with FILE:LINE and what
 * is wrong; a file written by redprof reads back unchanged.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

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
	is_u64(a.value[VAR_MEM_TOFREE].e.t[1].from[0], 0x11da20 + 190, "producer resolved: performEvictions+190");
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

/* A named part, an absolute global term, a leading minus and a negative slot: read, written, read back. */
static void forms(void)
{
	static const char text[] =
		"redprof-offsets 1\n"
		"build-id a50d6825e71f1473372299161f75fe50e80452de\n"
		"server valkey -\n"
		"function performEvictions 0x11da20 2146\n"
		"inlined no\n"
		"part performEvictions.cold 0x60b66 64\n"
		"site slowpath performEvictions.cold+5 0x60b6b single-stepped dwarf \"jmp 0x11dcdb\" slowpath\n"
		"value mem_reported slowpath [0x25c798] from - dwarf\n"
		"value mem_tofree slowpath -rbx+r12 from performEvictions+203,performEvictions+190 dwarf\n"
		"value overhead slowpath [rbp-0x38] from performEvictions+177 dwarf\n";
	struct offsets a, b;
	char err[512] = "", name[128], *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!ok(!offsets_parse_string("forms", text, &a, err, sizeof(err)), "the other forms parse (%s)", err))
		return;
	is_u64(a.site[0].addr, 0x60b66 + 5, "a site in a named part resolves against the part");
	ok(a.site[0].cls == INSN_SINGLE_STEPPED && a.site[0].strategy == STRATEGY_DWARF, "single-stepped, dwarf");
	ok(!strcmp(a.flavor, "valkey") && !a.version[0] && !a.inlined, "valkey, version unknown, not inlined");
	ok(a.value[VAR_MEM_REPORTED].e.t[0].kind == TERM_GLOBAL && a.value[VAR_MEM_REPORTED].e.t[0].off == 0x25c798 &&
	   !a.value[VAR_MEM_REPORTED].e.t[0].sym[0], "an absolute global term");
	ok(a.value[VAR_MEM_TOFREE].e.t[0].sign < 0 && a.value[VAR_MEM_TOFREE].e.t[1].sign > 0, "a leading minus");
	is_u64(a.value[VAR_OVERHEAD].e.t[0].off, (uint64_t)-0x38, "a negative displacement");
	offsets_code_name(&a, 0x60b66 + 5, name, sizeof(name));
	is_str(name, "performEvictions.cold+5", "a code name in a named part");
	offsets_code_name(&a, 0x11da20, name, sizeof(name));
	is_str(name, "performEvictions", "the function's first byte has no +0");
	offsets_code_name(&a, 0x1000, name, sizeof(name));
	is_str(name, "0x1000", "an address in no known part");
	f = open_memstream(&out, &len);
	offsets_write(&a, f);
	fclose(f);
	ok(!offsets_parse_string("written", out, &b, err, sizeof(err)) && b.site[0].addr == a.site[0].addr &&
	   b.value[VAR_MEM_REPORTED].e.t[0].off == 0x25c798 && b.value[VAR_OVERHEAD].e.t[0].off == -0x38 &&
	   b.value[VAR_MEM_TOFREE].e.t[0].sign < 0 && !b.value[VAR_MEM_USED].present,
	   "written and read back the same (%s)", err);
	ok(strstr(out, "server valkey -\n") && strstr(out, "# No emulated instruction holds these values") &&
	   strstr(out, "# mem_used: not found in this build") && strstr(out, "[0x25c798]") &&
	   strstr(out, "[rbp-0x38]"), "the writer's spelling: version -, a single-stepped site's comment, "
	   "absent values, [0xADDRESS], negative slots");
	free(out);
}

static void files(void)
{
	char path[] = "/tmp/unit-offsets.XXXXXX", err[512] = "";
	struct offsets o;
	int fd = mkstemp(path);

	ok(offsets_parse("/nonexistent/x.offsets", &o, err, sizeof(err)) == -ENOENT &&
	   !strcmp(err, "/nonexistent/x.offsets: No such file or directory"), "a missing file: -ENOENT, named");
	ok(fd >= 0 && write(fd, "redprof-offsets 1\n\0\n", 20) == 20, "a file with a NUL byte");
	ok(offsets_parse(path, &o, err, sizeof(err)) == -EINVAL && strstr(err, ": not a text file"),
	   "is not a text file (%s)", err);
	close(fd);
	unlink(path);
}

/* N extra records LINE (with %d for a counter) appended to GOOD. */
static void too_many(const char *line, int n, const char *want, const char *what)
{
	char *extra = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&extra, &len);

	for (int i = 0; i < n; i++) {
		fprintf(f, line, i, i);
		fputc('\n', f);
	}
	fclose(f);
	extra[len - 1] = '\0';
	appended(extra, want, what);
	free(extra);
}

static void more_refusals(void)
{
	refused(8, "site slowpath performEvictions+222 0x11dafe emulated disasm \"je 0x11e111\" slowpath a b c d e",
		"f.offsets:8: too many fields", "a line of more than 12 fields");
	refused(8, "site slowpath performEvictions+222 0x11dafe emulated disasm \"je 0x11e111\"x slowpath",
		"f.offsets:8: text after a quoted field", "text glued to a quoted field");
	refused(8, "site slowpath +222 0x11dafe emulated disasm \"je 0x11e111\" slowpath",
		"f.offsets:8: malformed location '+222'", "a location without a name");
	refused(8, "site slowpath 0x11dafg 0x11dafe emulated disasm \"je 0x11e111\" slowpath",
		"f.offsets:8: malformed address '0x11dafg'", "a malformed absolute location");
	refused(8, "site slowpath performEvictions+222 0x11dafe emulated disasm", "f.offsets:8: site wants:",
		"a site without its instruction");
	refused(8, "site 1st performEvictions+222 0x11dafe emulated disasm \"je 0x11e111\" slowpath",
		"f.offsets:8: malformed site name '1st'", "a site name that is not a word");
	too_many("site s%d performEvictions+222 0x11dafe emulated disasm \"je 0x11e111\"", 4,
		 "f.offsets:19: more than 4 sites", "a fifth site");
	refused(10, "value overhead slowpath [rsp+0x20]x from performEvictions+177 disasm",
		"f.offsets:10: malformed memory term '[rsp+0x20]x'", "a memory term with text after it");
	refused(10, "value overhead slowpath [foo] from - disasm", "f.offsets:10: malformed memory term '[foo]': give",
		"a memory term of no known form");
	refused(10, "value overhead slowpath ]rax from performEvictions+177 disasm",
		"f.offsets:10: malformed expression ']rax': unbalanced brackets", "a closing bracket first");
	refused(10, "value overhead slowpath rax++rbx from a,b disasm", "f.offsets:10: malformed expression 'rax++rbx'",
		"an empty term");
	refused(10, "value overhead slowpath rax performEvictions+177 disasm", "f.offsets:10: value wants:",
		"a value without 'from'");
	refused(10, "value overhead slowpath rax from performEvictions+177,performEvictions+1 disasm",
		"f.offsets:10: more producers than terms in overhead", "a producer too many");
	refused(10, "value overhead slowpath rax from - disasm",
		"f.offsets:10: term 1 of overhead is not a global but has no producer", "a register without producer");
	refused(10, "value overhead slowpath rax from performEvictions+1x7 disasm",
		"f.offsets:10: malformed offset in 'performEvictions+1x7'", "a malformed producer");
	refused(10, "value overhead slowpath rax from otherFunction+177 disasm",
		"f.offsets:10: 'otherFunction' is neither the function nor one of its parts", "a producer elsewhere");
	refused(13, "delete performEvictions+753 0x11dd11 emulated disasm", "f.offsets:13: delete wants:",
		"a delete site without its instruction");
	refused(13, "delete performEvictions+753 0x11dd11 fast disasm \"callq 0x94bd0\"",
		"f.offsets:13: unknown instruction class 'fast'", "a delete site of an unknown class");
	appended("delete performEvictions+754 0x11dd11 emulated disasm \"callq 0x94bd0\"",
		 "f.offsets:16: duplicate delete site 'performEvictions+754'", "a second delete site at one offset");
	too_many("delete performEvictions+%d 0x%x emulated disasm \"callq 0x94bd0\"", 8,
		 "f.offsets:23: more than 8 delete sites", "a ninth delete site");
	refused(14, "global maxmemory server+3600", "f.offsets:14: global wants:", "a global without strategy");
	refused(15, "global used_memory 0x25c79g disasm", "f.offsets:15: malformed address '0x25c79g'",
		"a malformed global address");
	appended("redprof-offsets 1", "f.offsets:16: duplicate redprof-offsets line", "a second format line");
	refused(2, "redprof-offsets one", "f.offsets:2: malformed format version 'one'", "a format that is no number");
	appended("server redis 7.0.15", "f.offsets:16: duplicate server line", "a second server line");
	refused(4, "server memcached 1.6", "f.offsets:4: server wants: redis|valkey VERSION|-", "another server");
	appended("function performEvictions 0x11da20 2146", "f.offsets:16: duplicate function line",
		 "a second function line");
	refused(5, "function performEvictions 0x11da20", "f.offsets:5: function wants:", "a function without size");
	refused(5, "function evictNow 0x11da20 2146", "f.offsets:5: unknown eviction function 'evictNow'",
		"an eviction function redprof does not know");
	refused(6, "inlined maybe", "f.offsets:6: inlined wants: yes or no", "inlined neither yes nor no");
	refused(7, "part - 0x60b66", "f.offsets:7: part wants:", "a part without size");
	refused(7, "part - 60b66 0", "f.offsets:7: malformed address '60b66'", "a part address without 0x");
	appended("part - 0x60b66 0", "f.offsets:16: duplicate part - at 0x60b66", "a second part at one address");
	too_many("part p%d 0x7%04x 4", 8, "f.offsets:23: more than 8 parts", "a ninth part");
	refused(4, "", "f.offsets: missing server line", "a file without server line");
	refused(5, "", "f.offsets: missing function line", "a file without function line");
	refused(6, "", "f.offsets: missing inlined line", "a file without inlined line");
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
	forms();
	files();
	more_refusals();
	refused(2, "redprof-offsets 3", "f.offsets:2: format 3 is not supported: this redprof reads formats 1 to 2", "an unknown format version");
	crlf();
	paths();
	refused(3, "build-id \x1b[31ma50d", "f.offsets:3: control character 0x1b", "a control character");
	refused(3, "build-id a50d\rx", "f.offsets:3: control character 0x0d", "a carriage return inside a line");
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
