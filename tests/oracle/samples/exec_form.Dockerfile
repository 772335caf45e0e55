# Exec (JSON) form is plain JSON; shell form is passed verbatim to the shell.
FROM scratch
SHELL ["/bin/sh", "-eu", "-c"]
RUN ["sh", "-c", "printf 'a\\nb\\n' && echo \"line1\nline2\"", "tab\there", "\u00e9\u2713"]
RUN echo "keep \"quotes\"" 'and \back\slashes' $VAR && \
    # comment lines inside a continuation are dropped
    echo continued\
done
CMD ["/bin/app", "--flag=a b", "back\\slash", "quote\"d", "new\nline"]
ENTRYPOINT ["/bin/tini", "--"]
HEALTHCHECK --interval=30s --retries=3 CMD ["curl", "-f", "http://localhost/"]
HEALTHCHECK CMD curl -f "http://localhost/" || exit 1
ENTRYPOINT ["not closed"
