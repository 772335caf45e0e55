# syntax=docker/dockerfile:1
# escape=`
FROM scratch
ENV WIN="C:\Program Files\app" QUOTE="say `"hi`"" BARE=a`b c=`$x
WORKDIR C:\app
RUN echo one `
    two
