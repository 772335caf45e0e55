FROM scratch
COPY "with space" /dst/
