//go:build lambda.norpc

package main

const norpc = true
