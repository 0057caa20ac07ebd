# md2man.awk: docs/cli.md to the pktexpect(1) man page (man(7) macros).
#
#   awk -v version=0.1.0 -f scripts/md2man.awk docs/cli.md > pktexpect.1
#
# Knows the Markdown docs/cli.md uses, nothing more: a "# NAME(1): what" title,
# "##"/"###" headings, paragraphs, fenced code blocks, "- " lists, pipe tables
# (a row becomes a tagged paragraph: first cell the tag, the rest its text),
# `code`, *emphasis*, **strong** and [links](target) (the text is kept).
# The build runs it, so the page is never out of date with the document.

function esc(s) {
    gsub(/\\/, "\\e", s)
    return s
}

# Inline markup of one line of text (already escaped). A `code` span may go on
# over a line break: `span` keeps that state from one line to the next.
function inline(s,    out, i, code) {
    out = ""
    if (span) {
        i = index(s, "`")
        code = i ? substr(s, 1, i - 1) : s
        gsub(/-/, "\\-", code)
        out = "\\fB" code "\\fR"
        if (!i) return out
        span = 0
        s = substr(s, i + 1)
    }
    while ((i = index(s, "`")) > 0) {
        out = out emph(substr(s, 1, i - 1))
        s = substr(s, i + 1)
        i = index(s, "`")
        if (i == 0) {          # continues on the next line
            gsub(/-/, "\\-", s)
            span = 1
            return out "\\fB" s "\\fR"
        }
        code = substr(s, 1, i - 1)
        gsub(/-/, "\\-", code)
        out = out "\\fB" code "\\fR"
        s = substr(s, i + 1)
    }
    return out emph(s)
}

function emph(s) {
    # [text](target) -> text
    while (match(s, /\[[^]]*\]\([^)]*\)/)) {
        t = substr(s, RSTART + 1, RLENGTH - 2)
        sub(/\]\(.*$/, "", t)
        s = substr(s, 1, RSTART - 1) t substr(s, RSTART + RLENGTH)
    }
    while (match(s, /\*\*[^*]+\*\*/))
        s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 2, RLENGTH - 4) "\\fR" substr(s, RSTART + RLENGTH)
    while (match(s, /\*[^* ][^*]*\*/))
        s = substr(s, 1, RSTART - 1) "\\fI" substr(s, RSTART + 1, RLENGTH - 2) "\\fR" substr(s, RSTART + RLENGTH)
    return s
}

# A text line must not start with a control character.
function line(s) {
    if (s ~ /^[.']/)
        s = "\\&" s
    print s
}

# Splits a table row on the pipes that are outside `code`.
function cells(row, arr,    n, i, c, cur, incode) {
    sub(/^[ \t]*\|/, "", row)
    sub(/\|[ \t]*$/, "", row)
    n = 0; cur = ""; incode = 0
    for (i = 1; i <= length(row); i++) {
        c = substr(row, i, 1)
        if (c == "`") incode = !incode
        if (c == "|" && !incode) {
            arr[++n] = cur; cur = ""
            continue
        }
        cur = cur c
    }
    arr[++n] = cur
    for (i = 1; i <= n; i++) {
        sub(/^[ \t]+/, "", arr[i]); sub(/[ \t]+$/, "", arr[i])
    }
    return n
}

BEGIN { incode = 0; intable = 0; title = 0 }

# fenced code: verbatim, no fill
/^```/ {
    if (!incode) {
        if (!title_synopsis && sections == 0) { print ".SH SYNOPSIS"; title_synopsis = 1 }
        print ".PP"; print ".nf"; print ".RS 4"
    } else {
        print ".RE"; print ".fi"
    }
    incode = !incode
    next
}
incode { line(esc($0)); next }

/^# / && !title {
    t = substr($0, 3)
    name = t; sub(/\(.*$/, "", name)
    what = t; sub(/^[^:]*:[ ]*/, "", what)
    printf ".TH %s 1 \"\" \"%s %s\" \"User Commands\"\n", toupper(name), name, version
    print ".SH NAME"
    print name " \\- " esc(what)
    title = 1
    next
}

/^## / {
    sections++
    h = substr($0, 4)
    # command sections keep their name; other headings are capitalised man style
    print ".SH " (h ~ /^[a-z]/ ? "\"COMMAND: " toupper(h) "\"" : "\"" toupper(esc(h)) "\"")
    intable = 0
    next
}

/^### / { print ".SS \"" esc(substr($0, 5)) "\""; intable = 0; next }

/^\|/ {
    n = cells($0, c)
    if (!intable) { intable = 1; next }          # the header row
    if (c[1] ~ /^-+$/) next                      # the separator row
    print ".TP"
    line(inline(esc(c[1])))
    text = c[2]
    for (i = 3; i <= n; i++) text = text " \\(em " c[i]
    line(inline(esc(text)))
    next
}

/^[ \t]*$/ { if (!intable) print ".PP"; intable = 0; next }

/^- / { print ".IP \\(bu 2"; line(inline(esc(substr($0, 3)))); next }

{ intable = 0; sub(/^[ \t]+/, ""); line(inline(esc($0))) }
