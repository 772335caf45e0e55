# Quote and escape removal in the instructions BuildKit runs through its
# shell lexer (ProcessWord).
ARG BASE="debian:12 "
ARG PLAIN=x\ y NODEFAULT
FROM debian:12-slim AS Build
ENV SPACES="a  b   c" SINGLE='it is "quoted"' BARE=one\ two
ENV DQ="say \"hi\"" SQ_CONCAT='it'\''s' MIXED="a"'b'c
ENV BS_DQ="back\\slash" BS_KEEP="c:\temp\new" BS_BARE=a\\b\c TRAIL="x\\"
ENV UNI="héllo ✓ 日本語" EMOJI='🐳'
ENV LEGACY legacy form "keeps" its   spaces
LABEL "org.example.name"="stow plan" org.example.empty="" multi="line1\nline2"
WORKDIR "/srv/my app"
USER "app user"
# Shell-form COPY/ADD/VOLUME/EXPOSE words are split on whitespace BEFORE
# unquoting: "a b" or a\ b can never be one path (c\ d gives "c" and "d").
COPY --chown=1000:1000 "a" 'b' c\ d "/dst/"
# JSON-form COPY/ADD/VOLUME strings are JSON-decoded AND then unquoted.
COPY ["src with space", "\"dq\"", "'sq'", "/dest/"]
ADD ["back\\\\slash", "/dest/"]
VOLUME ["/data one", "/data\\two"]
VOLUME /v1 "/v2"
EXPOSE 80/tcp "443/tcp" '8080'
STOPSIGNAL "SIGTERM"
