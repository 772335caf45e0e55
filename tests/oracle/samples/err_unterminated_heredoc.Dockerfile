FROM scratch
RUN cat <<EOF
no terminator
