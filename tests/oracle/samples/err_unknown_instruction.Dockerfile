FROM scratch
RUN echo hi
not-an-instruction here
