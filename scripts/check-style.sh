#!/bin/bash
# SPDX-License-Identifier: MIT
# check-style.sh: the style rules tools enforce (house rule 7): clang-format
# clean, an SPDX line and a header comment in every C file, and no banned
# functions (unbounded string functions, raw malloc family: use GLib's).
set -u
cd "$(dirname "$0")/.."
fail=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
for f in $files; do
    [ -f "$f" ] || continue
    if ! head -1 "$f" | grep -q 'SPDX-License-Identifier'; then
        echo "$f: first line must be an SPDX-License-Identifier comment"
        fail=1
    fi
    if ! head -3 "$f" | grep -q '^/\*$\|^ \*'; then
        echo "$f: missing header comment saying what the file models"
        fail=1
    fi
    if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strncpy)\s*\(' "$f" \
        | grep -v 'snprintf\|g_snprintf' ; then
        echo "$f: banned string function (use g_strlcpy/g_strdup_printf/snprintf)"
        fail=1
    fi
    if grep -nE '(^|[^_a-z])(malloc|calloc|realloc)\s*\(' "$f" | grep -v 'g_malloc\|g_realloc\|fuzz'; then
        echo "$f: raw malloc family: use g_malloc/g_new"
        fail=1
    fi
done
if command -v clang-format >/dev/null; then
    if ! clang-format --dry-run --Werror $files 2>/tmp/vireo-style.$$; then
        head -40 /tmp/vireo-style.$$
        echo "clang-format: files above are not formatted (run clang-format -i)"
        fail=1
    fi
    rm -f /tmp/vireo-style.$$
else
    echo "clang-format not installed: formatting not checked" >&2
fi
[ $fail = 0 ] && echo "style: ok"
exit $fail
