# JSON-form COPY strings still go through the shell lexer: a lone apostrophe
# is an unterminated single quote.
FROM scratch
COPY ["it's.txt", "/dst/"]
