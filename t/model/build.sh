#!/bin/sh
# t/model/build.sh: the analyser's test models, built with flags of their
# own (never the user's CFLAGS), as `make check` does:
#
#   build.sh GCC CLANG STRIP SRCDIR OUTDIR
#
# For each compiler configuration and each variant (model.h says what each
# models), one build with DWARF (NAME-g), one without (NAME), and a
# stripped copy of the DWARF build (NAME-stripped: same build-id, only
# .dynsym). OUTDIR/builds lists them, one a line, for t/model.t:
#   NAME COMPILER VARIANT KIND DWARF-TWIN
# where KIND is dwarf, plain or stripped and DWARF-TWIN the build a
# stripped copy was made from ("-" otherwise). Every file is written
# atomically; the list last, so it names only what exists.
set -eu

gcc=$1 clang=$2 strip=$3 src=$4 out=$5
sources="$src/zmalloc.c $src/evict.c $src/server.c $src/driver.c"

# Compiler configurations: name and command line.
configs="gcc-O2:$gcc -O2
gcc-O3-lto:$gcc -O3 -flto
clang-O2:$clang -O2"

# Variants: name and macros.
variants="redis7:-DMODEL_COLD
valkey8:-DMODEL_GMS_CALL -DMODEL_PER_THREAD -DMODEL_STATS_IN_DELETE
inlined:-DMODEL_OVERHEAD_INLINE -DMODEL_PER_THREAD -DMODEL_COLD"

# -rdynamic exports the symbols redprof recognises Redis by, as Redis's own link does.
link="-rdynamic -Wl,--build-id"

mkdir -p "$out"
list="$out/builds-t"
: >"$list"
echo "$configs" | while IFS=: read -r cname cc; do
	echo "$variants" | while IFS=: read -r vname macros; do
		name="evict-model-$cname-$vname"
		# shellcheck disable=SC2086
		$cc -g $macros $link -I"$src" -o "$out/$name-g-t" $sources
		mv -f "$out/$name-g-t" "$out/$name-g"
		# shellcheck disable=SC2086
		$cc $macros $link -I"$src" -o "$out/$name-t" $sources
		mv -f "$out/$name-t" "$out/$name"
		"$strip" -o "$out/$name-stripped-t" "$out/$name-g"
		mv -f "$out/$name-stripped-t" "$out/$name-stripped"
		printf '%s %s %s dwarf -\n%s %s %s plain -\n%s %s %s stripped %s\n' \
			"$name-g" "$cname" "$vname" "$name" "$cname" "$vname" \
			"$name-stripped" "$cname" "$vname" "$name-g" >>"$list"
	done
done
mv -f "$list" "$out/builds"
