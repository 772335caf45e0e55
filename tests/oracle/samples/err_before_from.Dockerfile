ENV A=b
FROM scratch
