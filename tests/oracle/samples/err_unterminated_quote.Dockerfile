FROM scratch
ENV A="unterminated
