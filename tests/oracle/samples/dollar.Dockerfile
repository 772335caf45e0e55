# A `$` that BuildKit would treat as a substitution sets unescaped_dollar.
FROM scratch
ENV ESCAPED=\$HOME QUOTED_ESCAPED="\$HOME" SINGLE='$HOME' BS="\\\$x"
ENV PLAIN=$HOME
LABEL x="a ${b} c"
ENV PRICE="costs 5$"
WORKDIR /home/$USER
COPY ["$SRC", "/dst"]
RUN echo "$HOME" \$x
CMD ["echo", "$HOME"]
