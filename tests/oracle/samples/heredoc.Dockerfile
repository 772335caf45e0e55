# Heredocs, and the word EOF used as ordinary text.
FROM scratch
ENV MARKER=EOF OTHER="<<EOF"
RUN echo EOF && echo "<<EOF" && echo x << y
RUN <<EOF
set -e
echo "$HOME" 'single' \n
EOF
RUN cat <<-'END' > /etc/motd && echo done
	tab-indented $NOT_EXPANDED \t
	END
COPY <<EOF /etc/expanded.conf
keep "quotes" 'here' but drop \backslash, keep \\one, lose \$dollar
EOF
COPY <<"EOF" /etc/raw.conf
raw "quotes" \backslash $dollar
EOF
